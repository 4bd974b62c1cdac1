import type { LegacyDialect } from '../core/dialect';
import { ownDb } from '../core/dialect';
import { INBOX_CLOCK_SQL, pruneInRounds } from '../core/inbox-retention';
import { postgresChangelogDdl, postgresChangelogDropDdl } from './postgres-changelog.ddl';
import { PostgresChangelogSource } from './postgres-changelog.source';
import { postgresConflictIndexDdl, postgresInboxDdl } from './postgres-inbox.ddl';
import { PostgresImportLeaseStore, postgresImportLeaseDdl } from './postgres-import-lease';
import { postgresInboxPrune } from './postgres-inbox-retention.sql';
import { classifyPostgresError } from './postgres-sink-error';
import { describePostgres } from './postgres-table-description';
import { PostgresTriggerSource } from './postgres-trigger.source';
import { PostgresLogicalSource } from './postgres-logical.source';
import { postgresLogicalDdl, postgresLogicalDropDdl } from './postgres-logical.ddl';
import { postgresLogicalProblems, preparePostgresLogical } from './postgres-logical.check';
import { PostgresWritebackSink } from './postgres-writeback.sink';
import { PostgresLegacyDb } from './postgres.legacy-db';

const pg = (db: Parameters<LegacyDialect['applyDdl']>[0]): PostgresLegacyDb => ownDb(db, PostgresLegacyDb, 'postgres');

/** PostgreSQL: trigger and existing-changelog capture, the set-based sink, transactional DDL. */
export const postgresDialect: LegacyDialect = {
  name: 'postgres',
  connect: (options, onError) => new PostgresLegacyDb(options, onError),
  captureSource(db, system, table) {
    switch (table.capture.mode) {
      case 'trigger':
        return new PostgresTriggerSource(pg(db).pool, system, table);
      case 'changelog':
        return new PostgresChangelogSource(pg(db).pool, system, table);
      case 'cdc':
        throw new Error(`${system.name}.${table.schema}.${table.name}: cdc capture needs SQL Server`);
      case 'logical':
        return new PostgresLogicalSource(pg(db).pool, pg(db).logicalHub(system), table);
    }
  },
  writebackSink: (db, system) => new PostgresWritebackSink(pg(db).pool, system),
  schemaDdl: (system) => [
    ...postgresChangelogDdl(system),
    ...postgresInboxDdl(system.syncSchema),
    ...postgresImportLeaseDdl(system.syncSchema).slice(1),
    ...system.tables.flatMap((t) => postgresConflictIndexDdl(system.syncSchema, t)),
    ...postgresLogicalDdl(system),
  ],
  dropDdl: (system) => [...postgresChangelogDropDdl(system), ...postgresLogicalDropDdl(system)],
  prepareCapture: (db, system, drop) => preparePostgresLogical(pg(db).pool, system, drop),
  captureProblems: (db, system) => postgresLogicalProblems(pg(db).pool, system),
  async applyDdl(db, statements) {
    // DDL is transactional on PostgreSQL: all or nothing.
    const client = await pg(db).pool.connect();
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
  },
  inboxRetention(db, system) {
    const pool = pg(db).pool;
    return {
      now: async () => (await pool.query<{ now: Date }>(INBOX_CLOCK_SQL.postgres)).rows[0]!.now,
      prune: (rule) =>
        pruneInRounds(async () => {
          const s = postgresInboxPrune(system.syncSchema, { ...rule, system: system.name });
          return (await pool.query(s.text, [...s.values])).rowCount ?? 0;
        }, rule.limit),
    };
  },
  importLeases: (db, system) => new PostgresImportLeaseStore(pg(db).pool, system.syncSchema),
  describeTable: (db, schema, table) => describePostgres(pg(db), schema, table),
  classifyError: classifyPostgresError,
};
