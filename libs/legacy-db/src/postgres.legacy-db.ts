import { Pool, type PoolConfig } from 'pg';
import type { LegacyDb, LegacyDbOptions } from './legacy-db.interface';

export function postgresPoolConfig(o: LegacyDbOptions): PoolConfig {
  const tls = o.tls ? { rejectUnauthorized: o.tls.rejectUnauthorized, ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key?.reveal() } : undefined;
  return {
    ...(o.url ? { connectionString: o.url.reveal() } : { host: o.host, port: o.port, database: o.database, user: o.user, password: o.password?.reveal() }),
    ...(tls ? { ssl: tls } : {}),
    max: o.poolSize,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
    application_name: 'legacy-sync',
  };
}

export class PostgresLegacyDb implements LegacyDb {
  readonly dialect = 'postgres' as const;
  readonly system: string;
  readonly pool: Pool;

  constructor(options: LegacyDbOptions, onError: (err: Error) => void) {
    this.system = options.system;
    this.pool = new Pool(postgresPoolConfig(options));
    // An idle client losing its connection emits 'error'; unhandled, it would crash the process.
    this.pool.on('error', onError);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
