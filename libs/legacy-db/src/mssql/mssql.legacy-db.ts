import sql from 'mssql';
import { mssqlUrlProblem } from '@sync/config';
import type { LegacyDb, LegacyDbOptions } from '../core/legacy-db.interface';

/**
 * mssql's parseConnectionString reads only ADO-style strings ("Server=...;Database=..."): it
 * turns `mssql://user:pass@host:port/db` into a config without a server. URLs are read here, in
 * the one form `mssqlUrlProblem` accepts (docs/sqlserver.md).
 */
function configFromUrl(system: string, url: string): sql.config {
  const problem = mssqlUrlProblem(url);
  if (problem !== undefined) throw new Error(`systems.${system}.connection.url ${problem}`);
  if (!/^(mssql|sqlserver):\/\//i.test(url)) return sql.ConnectionPool.parseConnectionString(url);
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  return {
    server: u.hostname,
    ...(u.port ? { port: Number(u.port) } : {}),
    ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(database ? { database } : {}),
  };
}

export function mssqlPoolConfig(o: LegacyDbOptions): sql.config {
  const tls = o.tls;
  const base: sql.config = o.url ? configFromUrl(o.system, o.url.reveal()) : { server: o.host ?? '127.0.0.1' };
  return {
    ...base,
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.database !== undefined ? { database: o.database } : {}),
    ...(o.user !== undefined ? { user: o.user } : {}),
    ...(o.password !== undefined ? { password: o.password.reveal() } : {}),
    connectionTimeout: o.connectTimeoutMs ?? 5000,
    pool: { max: o.poolSize, min: 0, idleTimeoutMillis: 30_000 },
    options: {
      ...(base.options ?? {}),
      appName: 'legacy-sync',
      encrypt: tls !== undefined,
      trustServerCertificate: tls ? !tls.rejectUnauthorized : true,
      ...(tls?.ca ? { cryptoCredentialsDetails: { ca: tls.ca, ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key.reveal() } : {}) } } : {}),
    },
  };
}

export class MssqlLegacyDb implements LegacyDb {
  readonly dialect = 'mssql' as const;
  readonly system: string;
  readonly pool: sql.ConnectionPool;
  private connecting: Promise<sql.ConnectionPool> | undefined;

  constructor(options: LegacyDbOptions, onError: (err: Error) => void) {
    this.system = options.system;
    this.pool = new sql.ConnectionPool(mssqlPoolConfig(options));
    this.pool.on('error', onError);
  }

  /** Connects on first use and again after a failed attempt. */
  async connected(): Promise<sql.ConnectionPool> {
    if (this.pool.connected) return this.pool;
    this.connecting ??= this.pool.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  async ping(): Promise<void> {
    const pool = await this.connected();
    await pool.request().query('SELECT 1 AS ok');
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
