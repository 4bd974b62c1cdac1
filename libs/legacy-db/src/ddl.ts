import type { SystemConfig } from '@sync/config';
import { mssqlChangelogDdl, mssqlChangelogDropDdl } from './mssql/mssql-changelog.ddl';
import { postgresChangelogDdl, postgresChangelogDropDdl } from './postgres/postgres-changelog.ddl';
import { inboxDdl } from './core/inbox.ddl';
import type { LegacyDb } from './core/legacy-db.interface';
import { MssqlLegacyDb } from './mssql/mssql.legacy-db';
import { PostgresLegacyDb } from './postgres/postgres.legacy-db';

/**
 * The suite's objects in a legacy database (changelogs, triggers, watermark columns, the
 * write-back inbox and parked table), as reviewable statements. Dropping keeps the inbox: it is
 * the record of what the write-back applied.
 */
export function changelogDdl(system: SystemConfig, drop = false): string[] {
  switch (system.dialect) {
    case 'postgres':
      return drop ? postgresChangelogDropDdl(system) : [...postgresChangelogDdl(system), ...inboxDdl(system)];
    case 'mssql':
      return drop ? mssqlChangelogDropDdl(system) : [...mssqlChangelogDdl(system), ...inboxDdl(system)];
  }
}

/** Runs DDL: in one transaction on PostgreSQL (all or nothing); batch by batch on SQL Server. */
export async function applyDdl(db: LegacyDb, statements: readonly string[]): Promise<void> {
  if (db instanceof PostgresLegacyDb) {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      for (const sql of statements) await client.query(sql);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    return;
  }
  if (db instanceof MssqlLegacyDb) {
    const pool = await db.connected();
    for (const sql of statements) await pool.request().batch(sql);
    return;
  }
  throw new Error(`unsupported database for ${db.system}`);
}
