/**
 * The three kinds of failure every app distinguishes (docs/architecture.md, "Errors: three kinds, three
 * behaviours"). One consumer runner maps a kind to what happens; handlers only say which kind
 * they hit.
 *
 * - `environment`: the world around the message is wrong (connection lost, pool ended, shutdown in
 *   progress, read-only database, permission denied, lock timeout, broker unavailable). Pause,
 *   retry with capped backoff, report through readiness. Never dead-letter, never commit past.
 * - `data`: this one message can never succeed (invalid encoding or NUL, oversize, constraint
 *   violation caused by its values, mapping error, schema-invalid event). Dead-letter it with a
 *   readable reason and go on with the next.
 * - `schema`: a table or column the message needs is not (or no longer) there. Refresh metadata
 *   once and retry; if it persists, hold the entity with a clear status. Never dead-letter.
 *
 * `unknown` is what an unclassified error counts as: retried a bounded number of times, then
 * dead-lettered (so one odd message cannot block its partition for ever).
 */
export type ErrorKind = 'environment' | 'data' | 'schema';
export type ClassifiedKind = ErrorKind | 'unknown';

export const ERROR_KINDS: readonly ErrorKind[] = ['environment', 'data', 'schema'];

/** A failure whose kind is known. Subclasses only name the kind for readability. */
export class SyncError extends Error {
  override readonly name: string = 'SyncError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The outside world is unavailable or refuses us: wait and retry, never dead-letter. */
export class EnvironmentError extends SyncError {
  override readonly name: string = 'EnvironmentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('environment', message, options);
  }
}

/** The message itself can never succeed: dead-letter it, go on. */
export class DataError extends SyncError {
  override readonly name: string = 'DataError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('data', message, options);
  }
}

/** A table or column is missing or changed: refresh metadata, retry, then hold the entity. */
export class SchemaError extends SyncError {
  override readonly name: string = 'SchemaError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('schema', message, options);
  }
}

function ownKind(err: unknown): ErrorKind | undefined {
  if (err instanceof SyncError) return err.kind;
  // An error that declares a kind of its own (a lib that cannot import this one, a copy of this
  // module loaded twice): trust the field, not the class name.
  const kind = typeof err === 'object' && err !== null ? (err as { syncErrorKind?: unknown }).syncErrorKind : undefined;
  return typeof kind === 'string' && (ERROR_KINDS as readonly string[]).includes(kind) ? (kind as ErrorKind) : undefined;
}

/**
 * The kind of a failure: the outermost classified error in its cause chain decides (a wrapper
 * that re-classifies wins over what it wraps); `unknown` when none is classified.
 */
export function errorKind(err: unknown): ClassifiedKind {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e !== undefined && e !== null; depth++) {
    const kind = ownKind(e);
    if (kind) return kind;
    e = e instanceof Error ? e.cause : undefined;
  }
  return 'unknown';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
