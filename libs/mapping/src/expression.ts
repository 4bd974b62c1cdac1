import jsonata from 'jsonata';

/** Values a mapping expression may read besides its input document (as `$name`). */
export type Bindings = Readonly<Record<string, unknown>>;

/** A compiled JSONata expression. */
export interface Expression {
  readonly source: string;
  evaluate(input: unknown, bindings: Bindings): Promise<unknown>;
}

// A bare column name is by far the most common mapping; reading it directly gives the same result
// as JSONata (undefined when absent) without its async evaluator, which matters at high volume.
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Compiles `source`; throws an Error whose message says what and where when it is not valid JSONata. */
export function compileExpression(source: string): Expression {
  if (PLAIN_NAME.test(source) && !RESERVED.has(source)) {
    return {
      source,
      evaluate: (input) => Promise.resolve(isRecord(input) && Object.prototype.hasOwnProperty.call(input, source) ? input[source] : undefined),
    };
  }
  let compiled: jsonata.Expression;
  try {
    compiled = jsonata(source);
  } catch (err) {
    throw new Error(`invalid JSONata expression ${JSON.stringify(source)}: ${jsonataMessage(err)}`);
  }
  return { source, evaluate: (input, bindings) => compiled.evaluate(input, { ...bindings }) as Promise<unknown> };
}

// JSONata keywords and literals that look like plain names but are not field reads.
const RESERVED = new Set(['true', 'false', 'null', 'and', 'or', 'in', 'function']);

/** The message of a JSONata error (they are plain objects with code and position, not always Errors). */
export function jsonataMessage(err: unknown): string {
  if (isRecord(err) || err instanceof Error) {
    const e = err as { message?: unknown; code?: unknown; position?: unknown };
    const message = typeof e.message === 'string' ? e.message : String(err);
    const code = typeof e.code === 'string' ? ` [${e.code}${typeof e.position === 'number' ? ` at ${e.position}` : ''}]` : '';
    return `${message}${code}`;
  }
  return String(err);
}
