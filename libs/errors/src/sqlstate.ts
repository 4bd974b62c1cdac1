import type { ClassifiedKind } from './error-kind';

/** SQLSTATEs of a table, column or function the statement needs that is not (or no longer) there. */
const SCHEMA_CODES = new Set([
  '42703', // undefined_column
  '42P01', // undefined_table
  '3F000', // invalid_schema_name
  '42883', // undefined_function (e.g. a sync-schema function dropped)
  '42704', // undefined_object (a type or sequence the statement names)
  '42P10', // invalid_column_reference: ON CONFLICT without the unique index the metadata said was there
  '42804', // datatype_mismatch: values are cast to the cached column type, so the column's type changed
  '42809', // wrong_object_type: the table was replaced by a view or similar
]);

/**
 * SQLSTATEs that say something about the server, the session or our role, not about the message:
 * 42501 insufficient_privilege, 25006 read_only_sql_transaction (failover to a standby, or
 * default_transaction_read_only), 25P03/25P04 idle-in-transaction / transaction timeout,
 * 3D000 database missing, 55P03 lock_not_available, 55006 object_in_use, 72000 snapshot_too_old.
 */
const ENVIRONMENT_CODES = new Set(['42501', '25006', '25P03', '25P04', '3D000', '55P03', '55006', '72000']);
/**
 * Classes: 08 connection, 28 invalid authorization (login refused), 40 serialization failure or
 * deadlock, 53 insufficient resources (disk full, too many connections), 57 operator intervention
 * (57014 statement timeout/cancel, 57P01 admin shutdown), 58 system I/O, F0 configuration file,
 * XX internal error.
 */
const ENVIRONMENT_CLASS = /^(08|28|40|53|57|58|F0|XX)/;

/**
 * The kind of a PostgreSQL failure from its SQLSTATE (the `code` field node-postgres sets;
 * https://www.postgresql.org/docs/current/errcodes-appendix.html). Pure: callers pass the code,
 * no driver is imported here. One table for the suite's own tables (key map) and the legacy
 * write-back (libs/legacy-db sink-error.ts), which each decide what `unknown` means for them.
 *
 * - class 22 (data exception: NUL in text, invalid encoding, value too long, bad number) and
 *   class 23 (integrity constraint violation) come from the values a message carries: `data`.
 * - a missing table, column, function or a changed type: `schema`.
 * - the server, the session or our role (see ENVIRONMENT_CODES, ENVIRONMENT_CLASS): `environment`.
 * - anything else, or no code: `unknown`.
 */
export function sqlStateKind(code: string | undefined): ClassifiedKind {
  if (code === undefined || !/^[0-9A-Z]{5}$/.test(code)) return 'unknown';
  if (ENVIRONMENT_CODES.has(code) || ENVIRONMENT_CLASS.test(code)) return 'environment';
  if (SCHEMA_CODES.has(code)) return 'schema';
  if (/^(22|23)/.test(code)) return 'data';
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
