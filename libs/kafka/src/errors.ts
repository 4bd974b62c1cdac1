/**
 * Error kinds that drive what the consumer runner does with a failed message
 * (one place decides; handlers only say which kind of failure they hit).
 */
export type ErrorKind = 'transient' | 'poison' | 'unknown';

/** The outside world is unavailable (database down, broker unreachable): wait and retry, never dead-letter. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The message itself can never succeed (malformed, violates its contract): dead-letter at once. */
export class PoisonError extends Error {
  override readonly name = 'PoisonError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Kind of an error, by class or by name (so contract errors from other libs count as poison). */
export function errorKind(err: unknown): ErrorKind {
  if (err instanceof TransientError) return 'transient';
  if (err instanceof PoisonError) return 'poison';
  if (err instanceof Error && (err.name === 'ContractError' || err.name === 'ConfigValidationError')) return 'poison';
  return 'unknown';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
