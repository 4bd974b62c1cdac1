import { Client, Pool, type PoolConfig } from 'pg';
import type { SystemConfig } from '@sync/config';
import type { LegacyDb, LegacyDbOptions } from '../core/legacy-db.interface';
import { PostgresLogicalHub } from './postgres-logical.hub';

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
  private listener: Client | undefined;
  private listening = false;
  private readonly config: PoolConfig;
  private hub: PostgresLogicalHub | undefined;

  constructor(options: LegacyDbOptions, private readonly onError: (err: Error) => void) {
    this.system = options.system;
    this.config = postgresPoolConfig(options);
    this.pool = new Pool(this.config);
    // An idle client losing its connection emits 'error'; unhandled, it would crash the process.
    this.pool.on('error', onError);
    // So does a checked-out one (the pool listens only while a client is idle), e.g. a write-back
    // transaction between two statements when PostgreSQL shuts down. Its next query fails and is
    // handled as a transient error; the event itself only has to be heard.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /**
   * LISTENs on a channel on a dedicated connection and calls `onPayload` per notification;
   * reconnects after the connection is lost. Notifications only shorten waits: polling goes on.
   */
  listen(channel: string, onPayload: (payload: string) => void, retryMs = 5_000): void {
    if (this.listening) return;
    this.listening = true;
    const connect = async (): Promise<void> => {
      if (!this.listening) return;
      const client = new Client(this.config);
      this.listener = client;
      client.on('notification', (n) => onPayload(n.payload ?? ''));
      client.on('error', (err) => {
        this.onError(err);
        client.end().catch(() => undefined);
        if (this.listening) setTimeout(() => void connect(), retryMs).unref();
      });
      try {
        await client.connect();
        await client.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
      } catch (err) {
        this.onError(err as Error);
        await client.end().catch(() => undefined);
        if (this.listening) setTimeout(() => void connect(), retryMs).unref();
      }
    };
    void connect();
  }

  /** The logical replication stream of this system (one slot, one publication), created on first use. */
  logicalHub(system: SystemConfig): PostgresLogicalHub {
    this.hub ??= new PostgresLogicalHub(this.pool, this.config, system, this.onError);
    return this.hub;
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    this.listening = false;
    await this.listener?.end().catch(() => undefined);
    await this.hub?.close();
    await this.pool.end();
  }
}
