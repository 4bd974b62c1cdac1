import type { LegacyDialect } from '../core/dialect';
import { ownDb } from '../core/dialect';
import { INBOX_CLOCK_SQL, pruneInRounds } from '../core/inbox-retention';
import { MssqlCdcSource } from './mssql-cdc.source';
import { mssqlChangelogDdl, mssqlChangelogDropDdl } from './mssql-changelog.ddl';
import { MssqlChangelogSource } from './mssql-changelog.source';
import { mssqlInboxDdl } from './mssql-inbox.ddl';
import { MssqlImportLeaseStore, mssqlImportLeaseDdl } from './mssql-import-lease';
import { mssqlInboxPrune } from './mssql-inbox-retention.sql';
import { classifyMssqlError } from './mssql-sink-error';
import { describeMssql } from './mssql-table-description';
import { runMssql } from './mssql-statement';
import { MssqlTriggerSource } from './mssql-trigger.source';
import { MssqlWritebackSink } from './mssql-writeback.sink';
import { MssqlLegacyDb } from './mssql.legacy-db';

const ms = (db: Parameters<LegacyDialect['applyDdl']>[0]): MssqlLegacyDb => ownDb(db, MssqlLegacyDb, 'mssql');

/** SQL Server: trigger, existing-changelog and CDC capture, the MERGE-based sink, batch-wise DDL. */
export const mssqlDialect: LegacyDialect = {
  name: 'mssql',
  connect: (options, onError) => new MssqlLegacyDb(options, onError),
  captureSource(db, system, table) {
    switch (table.capture.mode) {
      case 'trigger':
        return new MssqlTriggerSource(ms(db), system, table);
      case 'changelog':
        return new MssqlChangelogSource(ms(db), system, table);
      case 'cdc':
        return new MssqlCdcSource(ms(db), system, table);
      case 'logical':
        throw new Error(`${system.name}.${table.schema}.${table.name}: logical capture needs PostgreSQL`);
    }
  },
  writebackSink: (db, system) => new MssqlWritebackSink(ms(db), system),
  schemaDdl: (system) => [...mssqlChangelogDdl(system), ...mssqlInboxDdl(system.syncSchema), ...mssqlImportLeaseDdl(system.syncSchema).slice(1)],
  dropDdl: (system) => mssqlChangelogDropDdl(system),
  async applyDdl(db, statements) {
    // Batch by batch: CREATE TRIGGER / CREATE SCHEMA must each be alone in a batch.
    const pool = await ms(db).connected();
    for (const sql of statements) await pool.request().batch(sql);
  },
  inboxRetention(db, system) {
    const legacy = ms(db);
    return {
      // SYSUTCDATETIME() comes back as a UTC wall time; the driver reads it as UTC (useUTC default).
      now: async () => (await runMssql<{ now: Date }>(await legacy.connected(), { text: INBOX_CLOCK_SQL.mssql, params: [] })).rows[0]!.now,
      prune: (rule) => pruneInRounds(async () => (await runMssql(await legacy.connected(), mssqlInboxPrune(system.syncSchema, { ...rule, system: system.name }))).rowsAffected, rule.limit),
    };
  },
  importLeases: (db, system) => new MssqlImportLeaseStore(ms(db), system.syncSchema),
  describeTable: (db, schema, table) => describeMssql(ms(db), schema, table),
  classifyError: classifyMssqlError,
};
