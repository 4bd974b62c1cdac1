import { DataError } from './error-kind';

// With the u flag a string is read by code point: a paired surrogate is one code point, so only
// an unpaired one matches the surrogate category.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why a string cannot travel to a database or a Kafka header as it is, or undefined when it can.
 * PostgreSQL rejects U+0000 in text (SQLSTATE 22021), and a lone UTF-16 surrogate cannot be
 * encoded as UTF-8 at all (it would be replaced silently, changing the value).
 */
export function hostileTextProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (LONE_SURROGATE.test(value)) return 'contains an unpaired UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

/** Throws a DataError naming the field when the string is hostile. */
export function assertCleanText(field: string, value: string): string {
  const problem = hostileTextProblem(value);
  if (problem) throw new DataError(`${field} ${problem}`);
  return value;
}
