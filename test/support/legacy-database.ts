import { Client } from 'pg';
import { testDatabaseUrl, uniqueName } from './test-env';

/** A throwaway PostgreSQL database on the local cluster, playing a legacy system. */
export class LegacyDatabase {
  private constructor(readonly name: string, readonly url: string, private readonly adminUrl = testDatabaseUrl('postgres')) {}

  /** `server` gives a database's URL on another cluster (the logical-decoding one: testLogicalUrl). */
  static async create(prefix = 'legacy', server: (database: string) => string = testDatabaseUrl): Promise<LegacyDatabase> {
    const name = uniqueName(prefix).toLowerCase();
    const admin = new Client({ connectionString: server('postgres') });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}"`);
    } finally {
      await admin.end();
    }
    return new LegacyDatabase(name, server(name), server('postgres'));
  }

  /** Runs statements on a fresh connection (each call its own session). */
  async exec<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = await this.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** Runs several parameterised statements in one transaction. */
  async transaction(statements: ReadonlyArray<[string, unknown[]]>): Promise<void> {
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      for (const [sql, params] of statements) await client.query(sql, params);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
  }

  async connect(): Promise<Client> {
    const client = new Client({ connectionString: this.url });
    await client.connect();
    return client;
  }

  async drop(): Promise<void> {
    const admin = new Client({ connectionString: this.adminUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}
