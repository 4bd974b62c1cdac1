import type { ClassifiedKind } from './error-kind';

/**
 * The kind of a PostgreSQL failure from its SQLSTATE (the `code` field node-postgres sets), for
 * the suite's own tables. Pure: callers pass the code, no driver is imported here.
 *
 * - class 22 (data exception: NUL in text, invalid encoding, value too long, bad number) and
 *   class 23 (integrity constraint violation) come from the values a message carries: `data`.
 *   Code that relies on a constraint (ON CONFLICT, a unique index as a lock) handles it before it
 *   gets here.
 * - class 42 undefined table / column (42P01, 42703): `schema`.
 * - classes 08 (connection), 53 (insufficient resources), 57 (operator intervention: shutdown,
 *   query cancelled), 40 (serialization failure, deadlock), 55P03 (lock not available), 25006
 *   (read-only transaction) and 42501 (permission denied): `environment`.
 * - anything else, or no code: `unknown` (the caller decides; a driver error without a code is
 *   usually a lost connection).
 */
export function sqlStateKind(code: string | undefined): ClassifiedKind {
  if (code === undefined || code.length !== 5) return 'unknown';
  const cls = code.slice(0, 2);
  switch (cls) {
    case '22':
    case '23':
      return 'data';
    case '08':
    case '53':
    case '57':
    case '40':
    case '58':
      return 'environment';
    default:
      break;
  }
  if (code === '42P01' || code === '42703') return 'schema';
  if (code === '55P03' || code === '25006' || code === '42501' || code === '25P03') return 'environment';
  return 'unknown';
}

/** The SQLSTATE of an error or of the first error in its cause chain that has one. */
export function sqlStateOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    // TypeORM's QueryFailedError keeps the driver error in driverError.
    const driver = (e as { driverError?: unknown }).driverError;
    if (typeof driver === 'object' && driver !== null) {
      const dc = (driver as { code?: unknown }).code;
      if (typeof dc === 'string' && /^[0-9A-Z]{5}$/.test(dc)) return dc;
    }
    e = e instanceof Error ? e.cause : undefined;
  }
  return undefined;
}
