/**
 * What a failed write means, decided once from the driver's error:
 * `environment` — the database is unreachable, busy or chose us as a deadlock victim: retry the same batch;
 * `foreign-key` — a referenced row is missing (maybe still in flight): retry a few times, then park;
 * `data` — the command itself can never succeed (constraint, bad value): dead-letter.
 * (The kinds other than `foreign-key` are those of @sync/errors.)
 */
export type SinkErrorKind = 'environment' | 'foreign-key' | 'data';

export class SinkError extends Error {
  override readonly name = 'SinkError';
  constructor(readonly kind: SinkErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

function field(err: unknown, name: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[name] : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** PostgreSQL: by SQLSTATE class (https://www.postgresql.org/docs/current/errcodes-appendix.html) and socket errors. */
export function classifyPostgresError(err: unknown): SinkError {
  if (err instanceof SinkError) return err;
  const code = field(err, 'code');
  const text = message(err);
  const kind = ((): SinkErrorKind => {
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'environment';
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      if (code === '23503') return 'foreign-key';
      // 08 connection, 40 serialization/deadlock, 53 resources, 57 operator intervention (shutdown), 58 system I/O.
      if (/^(08|40|53|57|58)/.test(code) || code === '55P03') return 'environment';
      return 'data';
    }
    // pg raises plain Errors when a connection dies mid-query or cannot be obtained in time, and
    // when the pool is closing ("Cannot use a pool after calling end on the pool"): never the data's fault.
    if (/connection terminated|timeout|connect|socket|closed|ended|calling end on the pool|shutdown in progress/i.test(text)) return 'environment';
    return 'data';
  })();
  return new SinkError(kind, typeof code === 'string' ? `${code}: ${text}` : text, { cause: err });
}

/** SQL Server: by error number (sys.messages) and tedious/mssql connection error codes. */
export function classifyMssqlError(err: unknown): SinkError {
  if (err instanceof SinkError) return err;
  const code = field(err, 'code');
  const number = field(err, 'number') ?? field(field(err, 'originalError'), 'number');
  const text = message(err);
  const kind = ((): SinkErrorKind => {
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || ['ESOCKET', 'ECONNCLOSED', 'ETIMEOUT', 'ELOGIN', 'ENOTOPEN', 'EREQINPROG', 'EABORT'].includes(code))) {
      return 'environment';
    }
    if (typeof number === 'number') {
      // 547 is raised for FOREIGN KEY and CHECK constraints alike; only the former may resolve itself.
      if (number === 547) return /FOREIGN KEY|REFERENCE/i.test(text) ? 'foreign-key' : 'data';
      // deadlock victim, lock timeout, snapshot conflicts, database unavailable / shutting down, resources.
      if ([1205, 1222, 3960, 3961, 40197, 40501, 40613, 49918, 49919, 49920, 4060, 6005, 701, 8645, -2].includes(number)) return 'environment';
      return 'data';
    }
    if (/connection|timeout|socket|closed|shutdown in progress/i.test(text)) return 'environment';
    return 'data';
  })();
  return new SinkError(kind, typeof number === 'number' ? `${number}: ${text}` : text, { cause: err });
}
