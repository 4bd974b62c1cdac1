import { ConfigValidationError } from './validation-error';

export const DIALECTS = ['postgres', 'mssql'] as const;
/** SQL dialect of a legacy system. */
export type Dialect = (typeof DIALECTS)[number];

/** Schema a table lives in when the pipeline file names none. */
export function defaultSchema(dialect: Dialect): string {
  return dialect === 'postgres' ? 'public' : 'dbo';
}

// Mixed case, reserved words (`order`) and inner spaces (`User Name`) are allowed because every
// identifier is quoted before it reaches SQL; leading/trailing spaces are rejected as they are
// invisible in YAML and almost always a typo. 128 is SQL Server's sysname length.
export const IDENTIFIER_PATTERN = /^[A-Za-z_](?:[A-Za-z0-9_$ ]{0,126}[A-Za-z0-9_$])?$/;

// PostgreSQL silently truncates longer names (NAMEDATALEN - 1), so a longer name would address
// a different object than the one configured.
export const POSTGRES_MAX_IDENTIFIER_BYTES = 63;

// System names become part of Kafka topic names and metric labels, hence the stricter form.
export const SYSTEM_NAME_PATTERN = /^[a-z][a-z0-9_]{0,30}$/;

export const IDENTIFIER_RULE =
  'letters, digits, _, $ or inner spaces, starting with a letter or _, at most 128 characters';
export const SYSTEM_NAME_RULE =
  'a lowercase letter followed by up to 30 lowercase letters, digits or _';

/** Why `name` is not a usable identifier (for `dialect`, when given), or undefined if it is. */
export function identifierProblem(name: unknown, dialect?: Dialect): string | undefined {
  if (typeof name !== 'string') {
    return `must be an identifier (${IDENTIFIER_RULE}), not ${describeValue(name)}`;
  }
  if (!IDENTIFIER_PATTERN.test(name)) {
    return `${JSON.stringify(name)} is not a valid identifier (${IDENTIFIER_RULE})`;
  }
  if (dialect === 'postgres' && Buffer.byteLength(name, 'utf8') > POSTGRES_MAX_IDENTIFIER_BYTES) {
    return `${JSON.stringify(name)} is longer than PostgreSQL's ${POSTGRES_MAX_IDENTIFIER_BYTES}-byte identifier limit`;
  }
  return undefined;
}

/**
 * Throws a ConfigValidationError naming `path` unless `name` is a safe identifier
 * (see IDENTIFIER_PATTERN; for postgres also at most 63 bytes).
 */
export function assertIdentifier(name: unknown, path: string, dialect?: Dialect): asserts name is string {
  const problem = identifierProblem(name, dialect);
  if (problem !== undefined) {
    throw new ConfigValidationError('Invalid identifier', [{ path, message: problem }]);
  }
}

/**
 * Quotes an identifier for `dialect`: postgres `"name"` with `"` doubled, mssql `[name]` with `]`
 * doubled. Escaping alone makes any non-empty name safe; validate with assertIdentifier first to
 * also reject names the configuration does not allow.
 */
export function quoteIdent(dialect: Dialect, name: string): string {
  // Neither server accepts an empty or NUL-containing identifier; fail here rather than in SQL.
  if (name.length === 0 || name.includes('\u0000')) {
    throw new ConfigValidationError('Invalid identifier', [
      { path: 'identifier', message: 'must be non-empty and must not contain NUL characters' },
    ]);
  }
  switch (dialect) {
    case 'postgres':
      return `"${name.replaceAll('"', '""')}"`;
    case 'mssql':
      return `[${name.replaceAll(']', ']]')}]`;
    default:
      return assertNever(dialect);
  }
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'a mapping' : typeof value;
}

function assertNever(value: never): never {
  throw new Error(`unexpected dialect ${String(value)}`);
}
