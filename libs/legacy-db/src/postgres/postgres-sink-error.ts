import { sqlStateKind } from '@sync/errors';
import { errorField as field, errorText as message, NETWORK_CODES, SinkError, type SinkErrorKind } from '../core/sink-error';

/**
 * Raised by pg (no SQLSTATE) when a pool is used after `pool.end()`: the app is shutting down,
 * so the batch must be retried by whoever runs next, never dead-lettered.
 */
const POOL_ENDED = /Cannot use a pool after calling end on the pool|shutdown in progress/i;

/** The kind of a PostgreSQL SQLSTATE for a legacy write (the table is @sync/errors' sqlStateKind). */
export function postgresSqlStateKind(code: string): SinkErrorKind {
  if (code === '23503') return 'foreign-key';
  const kind = sqlStateKind(code);
  // 22 data exception, 23 integrity constraint, the other 42 codes (a value the statement cannot
  // take), P0 RAISE EXCEPTION in a legacy trigger, and every code not listed: those are raised
  // about the row being written (legacy triggers and check logic use custom codes), so one dead
  // letter, replayable with `sync-ctl dlq`, costs less than holding the partition.
  return kind === 'unknown' ? 'data' : kind;
}

/** PostgreSQL: by SQLSTATE (postgresSqlStateKind), socket errors, and pg's own plain errors. */
export function classifyPostgresError(err: unknown): SinkError {
  if (err instanceof SinkError) return err;
  const code = field(err, 'code');
  const text = message(err);
  const kind = ((): SinkErrorKind => {
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'environment';
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return postgresSqlStateKind(code);
    if (POOL_ENDED.test(text)) return 'environment';
    // pg raises plain Errors when a connection dies mid-query or cannot be obtained in time.
    if (/connection terminated|timeout|connect|socket|closed|ended|not queryable/i.test(text)) return 'environment';
    return 'data';
  })();
  return new SinkError(kind, typeof code === 'string' ? `${code}: ${text}` : text, { cause: err });
}
