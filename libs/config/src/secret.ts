import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { ConfigValidationError } from './validation-error';

/** Secret taken from an environment variable. */
export interface EnvSecretRef {
  readonly env: string;
}

/** Secret taken from a file (e.g. a mounted Kubernetes secret); a trailing newline is dropped. */
export interface FileSecretRef {
  readonly file: string;
}

/** Where a secret lives. Configuration never holds secret values inline. */
export type SecretRef = EnvSecretRef | FileSecretRef;

/** Environment variables a secret may be read from; `process.env` by default. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

const MASK = '***';

/**
 * A sensitive value. Printing, logging or serialising it yields `***`; call `reveal()` at the one
 * place the real value is handed to a driver.
 */
export class Secret {
  // A private field is invisible to JSON.stringify, Object.keys, spread and util.inspect.
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret value. Do not log it. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [Symbol.toPrimitive](): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }
}

const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const SECRET_REF_SHAPE = '{ env: NAME } or { file: /path }';

/** Why `value` is not a SecretRef, or undefined if it is one. */
export function secretRefProblem(value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'number') {
    return `must be a secret reference (${SECRET_REF_SHAPE}), not an inline value`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `must be a secret reference (${SECRET_REF_SHAPE})`;
  }
  const keys = Object.keys(value);
  const unknown = keys.filter((key) => key !== 'env' && key !== 'file');
  if (unknown.length > 0) {
    return `must be a secret reference (${SECRET_REF_SHAPE}); unknown field ${unknown.join(', ')}`;
  }
  if (keys.length !== 1) {
    return `must be a secret reference with exactly one of env or file (${SECRET_REF_SHAPE})`;
  }
  const record = value as Record<string, unknown>;
  if ('env' in record) {
    return typeof record['env'] === 'string' && ENV_NAME_PATTERN.test(record['env'])
      ? undefined
      : 'env must name an environment variable (letters, digits and _, not starting with a digit)';
  }
  return typeof record['file'] === 'string' && record['file'].trim() !== ''
    ? undefined
    : 'file must be a non-empty path';
}

export function isSecretRef(value: unknown): value is SecretRef {
  return secretRefProblem(value) === undefined;
}

/**
 * Reads the secret `ref` points at. Failures name the config `path` and the variable or file,
 * never the value.
 */
export function resolveSecret(ref: SecretRef, path: string, env: EnvSource = process.env): Secret {
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '') {
      throw secretError(path, `environment variable ${ref.env} is not set or empty`);
    }
    return new Secret(value);
  }
  let content: string;
  try {
    content = readFileSync(ref.file, 'utf8');
  } catch (error: unknown) {
    // Only the error code: the message of some errors can quote file content.
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'read failed';
    throw secretError(path, `cannot read secret file ${ref.file} (${code})`);
  }
  // Files written with `echo` or an editor end in a newline that is not part of the secret.
  const value = content.replace(/\r?\n$/, '');
  if (value === '') {
    throw secretError(path, `secret file ${ref.file} is empty`);
  }
  return new Secret(value);
}

function secretError(path: string, message: string): ConfigValidationError {
  return new ConfigValidationError('Cannot resolve secret', [{ path, message }]);
}
