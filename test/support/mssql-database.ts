import sql from 'mssql';
import { mssqlUrlProblem } from '@sync/config';
import { mssqlPoolConfig } from '../../libs/legacy-db/src/mssql/mssql.legacy-db';
import { uniqueName } from './test-env';

/** T-SQL of a throwaway database; the name is generated, still bracket-quoted. */
export function mssqlCreateDatabaseSql(name: string): string {
  return `CREATE DATABASE [${name.replaceAll(']', ']]')}]`;
}

/** Closes every other session of the database first (an app under test may still hold some). */
export function mssqlDropDatabaseSql(name: string): string {
  const q = `[${name.replaceAll(']', ']]')}]`;
  return `IF DB_ID(N'${name.replaceAll("'", "''")}') IS NOT NULL BEGIN ALTER DATABASE ${q} SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE ${q}; END`;
}

/** `$1, $2…` (the tests' portable placeholders, PostgreSQL's) as mssql's named `@p1, @p2…`. */
export function mssqlPlaceholders(text: string): string {
  return text.replace(/\$(\d+)/g, '@p$1');
}

/** The same server and login as `serverUrl`, another database. */
export function mssqlUrlWithDatabase(serverUrl: string, database: string): string {
  if (/^(mssql|sqlserver):\/\//i.test(serverUrl)) {
    const u = new URL(serverUrl);
    u.pathname = `/${encodeURIComponent(database)}`;
    return u.toString();
  }
  return `${serverUrl.replace(/(^|;)\s*(Database|Initial Catalog)\s*=[^;]*/gi, '').replace(/;+$/, '')};Database=${database}`;
}

function pool(url: string, poolSize: number): sql.ConnectionPool {
  const config = mssqlPoolConfig({ system: 'test', dialect: 'mssql', url: { reveal: () => url }, poolSize });
  // Not `legacy-sync`: probes look for the apps' sessions by that program name.
  const p = new sql.ConnectionPool({ ...config, options: { ...config.options, appName: 'legacy-sync-test' } });
  // A dropped database ends our sessions too: that is not a test failure.
  p.on('error', () => undefined);
  return p;
}

function bind(request: sql.Request, params: readonly unknown[]): sql.Request {
  params.forEach((value, i) => request.input(`p${i + 1}`, value));
  return request;
}

/** One SQL Server connection of its own (a legacy application's session in the tests). */
export class MssqlSession {
  private tx: sql.Transaction | undefined;

  private constructor(private readonly pool: sql.ConnectionPool) {}

  static async open(url: string): Promise<MssqlSession> {
    return new MssqlSession(await pool(url, 1).connect());
  }

  async begin(): Promise<void> {
    this.tx = new sql.Transaction(this.pool);
    await this.tx.begin();
  }

  async commit(): Promise<void> {
    await this.tx?.commit();
    this.tx = undefined;
  }

  /** `$1, $2…` placeholders. */
  async query<T extends Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    const request = bind(this.tx ? new sql.Request(this.tx) : this.pool.request(), params);
    return (await request.query<T>(mssqlPlaceholders(text))).recordset ?? [];
  }

  async end(): Promise<void> {
    if (this.tx) await this.tx.rollback().catch(() => undefined);
    await this.pool.close();
  }
}

/**
 * A throwaway database on the SQL Server `serverUrl` points at (MSSQL_URL, docs/sqlserver.md),
 * playing a legacy system; the login needs CREATE DATABASE (sa in docker compose).
 */
export class MssqlTestDatabase {
  private shared: sql.ConnectionPool | undefined;

  private constructor(readonly name: string, private readonly serverUrl: string) {}

  static async create(serverUrl: string, prefix = 'legacy'): Promise<MssqlTestDatabase> {
    const problem = mssqlUrlProblem(serverUrl);
    if (problem !== undefined) throw new Error(`MSSQL_URL ${problem} (docs/sqlserver.md)`);
    const name = uniqueName(prefix).toLowerCase();
    const admin = await pool(serverUrl, 1).connect();
    try {
      await admin.request().batch(mssqlCreateDatabaseSql(name));
    } finally {
      await admin.close();
    }
    return new MssqlTestDatabase(name, serverUrl);
  }

  /** The database's URL, for apps (needs MSSQL_URL in URL form, not an ADO string). */
  get url(): string {
    return mssqlUrlWithDatabase(this.serverUrl, this.name);
  }

  /** Runs a statement with `$1, $2…` placeholders on a pooled connection. */
  async exec<T extends Record<string, unknown> = Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    this.shared ??= await pool(this.url, 4).connect();
    return (await bind(this.shared.request(), params).query<T>(mssqlPlaceholders(text))).recordset ?? [];
  }

  /** Runs T-SQL batches one after the other (no GO: each element is one batch). */
  async batches(texts: readonly string[]): Promise<void> {
    this.shared ??= await pool(this.url, 4).connect();
    for (const text of texts) await this.shared.request().batch(text);
  }

  session(): Promise<MssqlSession> {
    return MssqlSession.open(this.url);
  }

  async drop(): Promise<void> {
    await this.shared?.close().catch(() => undefined);
    this.shared = undefined;
    const admin = await pool(this.serverUrl, 1).connect();
    try {
      await admin.request().batch(mssqlDropDatabaseSql(this.name));
    } finally {
      await admin.close();
    }
  }
}
