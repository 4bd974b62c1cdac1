import { errorField as field, errorText as message, NETWORK_CODES, SinkError, type SinkErrorKind } from '../core/sink-error';

/**
 * SQL Server error numbers (sys.messages) that say something about the server, the session or our
 * login, not about the command.
 */
const MSSQL_ENVIRONMENT_NUMBERS = new Set([
  // permission denied: object, column, database, server; principal cannot access the database
  229, 230, 262, 297, 300, 916,
  // SET IDENTITY_INSERT: "does not exist or you do not have permissions" (needs ALTER; the table exists, the catalog said so)
  1088,
  // read-only: database read-only, emergency mode, availability-group replica not primary / not readable
  3906, 3908, 976, 978, 983,
  // login failed, cannot open database, server paused or in script upgrade mode, login locked/expired
  18456, 18452, 18486, 18487, 18488, 4060, 17142, 18401,
  // deadlock victim, lock timeout, lock resources, snapshot update conflicts
  1205, 1222, 1204, 3960, 3961,
  // resources: out of memory, memory grant timeout, optimizer timeout, log full, filegroup full
  701, 802, 8645, 8628, 9002, 1105,
  // shutdown in progress, session being killed, connection-level transport errors
  6005, 596, 233, 10053, 10054, 10060, 64,
  // Azure SQL: database unavailable, busy, reconfiguring, resource limits, size quota
  40197, 40501, 40613, 40143, 40544, 49918, 49919, 49920, 10928, 10929,
  // client-side query timeout (tedious)
  -2,
]);

/**
 * A table, column, procedure or function the statement needs is missing (or changed): 207 invalid
 * column name, 208 invalid object name, 213 column count does not match the table, 2812 stored
 * procedure not found, 4121 function not found, 4104 multi-part identifier could not be bound,
 * 4902 object not found (ALTER TABLE), 544/8101 explicit value for a column that became IDENTITY
 * (the cached metadata said it was not one).
 */
const MSSQL_SCHEMA_NUMBERS = new Set([207, 208, 213, 2812, 4121, 4104, 4902, 544, 8101]);

/** The kind of a SQL Server error number; `severity` is the error's class (level). */
export function mssqlErrorNumberKind(number: number, text: string, severity?: number): SinkErrorKind {
  // 547 is raised for FOREIGN KEY and CHECK constraints alike; only the former may resolve itself.
  if (number === 547) return /FOREIGN KEY|REFERENCE/i.test(text) ? 'foreign-key' : 'data';
  if (MSSQL_ENVIRONMENT_NUMBERS.has(number)) return 'environment';
  if (MSSQL_SCHEMA_NUMBERS.has(number)) return 'schema';
  // Level 17-19: insufficient resources / internal limits; 20-25: fatal, the connection is gone.
  if (severity !== undefined && severity >= 17) return 'environment';
  // 2627/2601 duplicate key, 515 NULL, 8152/2628 truncation, 245/8114/241/242 conversion,
  // 220/8115 overflow, 8134 divide by zero, 3609 a legacy trigger rolled back, 50000+ RAISERROR
  // or THROW from legacy code, and unlisted numbers: about the row being written (see
  // postgresSqlStateKind for why an unknown number is data).
  return 'data';
}

/** SQL Server: by error number (mssqlErrorNumberKind) and tedious/mssql connection error codes. */
export function classifyMssqlError(err: unknown): SinkError {
  if (err instanceof SinkError) return err;
  const code = field(err, 'code');
  const number = field(err, 'number') ?? field(field(err, 'originalError'), 'number');
  const severity = field(err, 'class') ?? field(field(field(err, 'originalError'), 'info'), 'class');
  const text = message(err);
  const kind = ((): SinkErrorKind => {
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || ['ESOCKET', 'ECONNCLOSED', 'ETIMEOUT', 'ELOGIN', 'ENOTOPEN', 'EREQINPROG', 'EABORT', 'EINSTLOOKUP'].includes(code))) {
      return 'environment';
    }
    if (typeof number === 'number') return mssqlErrorNumberKind(number, text, typeof severity === 'number' ? severity : undefined);
    if (/connection|timeout|socket|closed|shutdown in progress/i.test(text)) return 'environment';
    return 'data';
  })();
  return new SinkError(kind, typeof number === 'number' ? `${number}: ${text}` : text, { cause: err });
}
