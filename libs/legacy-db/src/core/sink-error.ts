/**
 * What a failed write means, decided once from the driver's error:
 * `environment` — the database is unreachable, busy, read-only, refuses our role, or chose us as a
 *   deadlock victim: retry the same batch, never dead-letter;
 * `schema` — a table, column or function the write needs is missing (or changed): the sink refreshes
 *   the table's metadata once and retries; if it persists, the entity is held with a status;
 * `foreign-key` — a referenced row is missing (maybe still in flight): retry a few times, then park;
 * `data` — the command itself can never succeed (constraint, bad value): dead-letter.
 * (The kinds other than `foreign-key` are those of @sync/errors.)
 */
export type SinkErrorKind = 'environment' | 'schema' | 'foreign-key' | 'data';

export class SinkError extends Error {
  override readonly name = 'SinkError';
  constructor(readonly kind: SinkErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Socket error codes of Node: the database is not reachable. */
export const NETWORK_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** A property of an error object of unknown shape. */
export function errorField(err: unknown, name: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[name] : undefined;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
