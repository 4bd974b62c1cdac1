import { after, before, describe, it, type TestContext } from 'node:test';
import type { Client } from 'pg';
import { quoteIdent, type Dialect, type SystemConfig, type TableConfig } from '@sync/config';
import { changelogNames } from '@sync/legacy-db';
import { mssqlChangelogNames } from '../../../libs/legacy-db/src/mssql/mssql-changelog.ddl';
import { LegacyDatabase } from '../../support/legacy-database';
import { MssqlTestDatabase } from '../../support/mssql-database';
import { testMssqlUrl } from '../../support/test-env';
import { WRITEBACK_LOCK_WAIT } from './writeback-scenarios';

/** A connection of its own, as the legacy application holds one. `$1…` placeholders. */
export interface TestSession {
  begin(): Promise<void>;
  commit(): Promise<void>;
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  end(): Promise<void>;
}

/** A throwaway legacy database of one dialect. */
export interface TestLegacyDb {
  /** Connection URL for the apps. */
  readonly url: string;
  /** One statement with `$1…` placeholders (both dialects). */
  exec<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Setup statements (DDL), in order; on SQL Server each one batch. */
  setup(statements: readonly string[]): Promise<void>;
  session(): Promise<TestSession>;
  drop(): Promise<void>;
}

/** What the write-back scenarios need to know about a dialect; the scenario bodies are shared. */
export interface WritebackDialect {
  readonly dialect: Dialect;
  readonly label: string;
  /** Default schema of the legacy tables (the pipeline leaves it out). */
  readonly schema: string;
  readonly defaultPort: number;
  /** Why this variant cannot run here (its tests are reported as skipped with it), or false. */
  readonly skip: string | false;
  /** How the database words the errors the scenarios provoke (as `SinkError` messages carry them). */
  readonly errors: { readonly invalidInteger: RegExp; readonly foreignKey: RegExp };
  createDatabase(): Promise<TestLegacyDb>;
  /** The trigger changelog of a table, qualified for queries. */
  changelog(system: SystemConfig, table: TableConfig): string;
}

class PostgresSession implements TestSession {
  constructor(private readonly client: Client) {}
  async begin(): Promise<void> {
    await this.client.query('BEGIN');
  }
  async commit(): Promise<void> {
    await this.client.query('COMMIT');
  }
  async query<T extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.client.query<T>(sql, [...params])).rows;
  }
  end(): Promise<void> {
    return this.client.end();
  }
}

export const postgresDialect: WritebackDialect = {
  dialect: 'postgres',
  label: 'PostgreSQL',
  schema: 'public',
  defaultPort: 5432,
  skip: false,
  errors: { invalidInteger: /22P02|invalid input syntax for type integer/, foreignKey: /23503/ },
  async createDatabase() {
    const db = await LegacyDatabase.create('it_writeback');
    return {
      url: db.url,
      exec: (sql, params = []) => db.exec(sql, [...params]),
      setup: async (statements) => void (await db.exec(statements.join(';\n'))),
      session: async () => new PostgresSession(await db.connect()),
      drop: () => db.drop(),
    };
  },
  changelog: (system, table) => `${quoteIdent('postgres', system.syncSchema)}.${quoteIdent('postgres', changelogNames(table).table)}`,
};

/** SQL Server, when MSSQL_URL names one (docs/sqlserver.md); its variant is skipped otherwise. */
export function mssqlDialect(serverUrl: string | undefined): WritebackDialect {
  return {
    dialect: 'mssql',
    label: 'SQL Server',
    schema: 'dbo',
    defaultPort: 1433,
    skip: serverUrl ? false : 'MSSQL_URL not set',
    // classifyMssqlError prefixes the error number.
    errors: { invalidInteger: /\b245: Conversion failed when converting the nvarchar value 'many' to data type int/, foreignKey: /^547: .*FOREIGN KEY/ },
    async createDatabase() {
      if (!serverUrl) throw new Error('MSSQL_URL not set');
      const db = await MssqlTestDatabase.create(serverUrl, 'it_writeback');
      return {
        url: db.url,
        exec: (sql, params) => db.exec(sql, params),
        setup: (statements) => db.batches(statements),
        session: () => db.session(),
        drop: () => db.drop(),
      };
    },
    changelog: (system, table) => mssqlChangelogNames(system.syncSchema, table).changelog,
  };
}

export function writebackDialects(): WritebackDialect[] {
  return [postgresDialect, mssqlDialect(testMssqlUrl())];
}

/** True while a write-back session of `db` waits for a row lock. */
export async function writebackWaitsOnLock(dialect: WritebackDialect, db: TestLegacyDb): Promise<boolean> {
  return (await db.exec(WRITEBACK_LOCK_WAIT[dialect.dialect])).length > 0;
}

/** The node:test functions a scenario uses, bound to one dialect. */
export interface DialectSuite {
  readonly dialect: WritebackDialect;
  /** Reported as skipped, with the reason, where the dialect cannot run. */
  it(name: string, fn: (t: TestContext) => Promise<void>): void;
  /** Hooks run only where the dialect can run. */
  before(fn: () => Promise<void>): void;
  after(fn: () => Promise<void>): void;
}

/**
 * Registers one scenario suite per dialect: PostgreSQL always, SQL Server too (its tests skipped
 * with "MSSQL_URL not set" when no server is configured, never passing silently).
 */
export function describeEachDialect(title: string, body: (suite: DialectSuite) => void): void {
  for (const dialect of writebackDialects()) {
    const skip = dialect.skip;
    describe(`${title} [${dialect.label}]`, () => {
      body({
        dialect,
        it: (name, fn) => void it(name, { skip }, fn),
        before: (fn) => void before(async () => (skip ? undefined : fn())),
        after: (fn) => void after(async () => (skip ? undefined : fn())),
      });
    });
  }
}
