export { createLegacyDb } from './legacy-db.factory';
export { LegacyDbModule, LegacyDbRegistry } from './legacy-db.module';
export { PostgresLegacyDb, postgresPoolConfig } from './postgres/postgres.legacy-db';
export { MssqlLegacyDb, mssqlPoolConfig } from './mssql/mssql.legacy-db';
export type { LegacyDb, LegacyDbOptions, DbTlsOptions, Dialect } from './core/legacy-db.interface';
export type { CaptureSource, CaptureBatch, CapturedChange, CaptureOp, RejectedChange, SchemaProblem } from './core/capture-source.interface';
export { changeKeyProblem, decodeChanges } from './core/change-decoder';
export { createCaptureSource } from './capture-source.factory';
export { changelogNames, NOTIFY_CHANNEL, SELF_LOGGED_SETTING, selfLoggedValue } from './core/changelog-names';
export { postgresChangelogDdl, postgresChangelogDropDdl } from './postgres/postgres-changelog.ddl';
export { normaliseRow, valueKind, parseExactJson } from './core/value-normalizer';
export type { ValueKind } from './core/value-normalizer';
export { encodeXidPosition, decodeXidPosition } from './postgres/postgres-xid-window';
export type { XidWindowPosition } from './postgres/postgres-xid-window';
export { changelogDdl, applyDdl } from './ddl';
export { mssqlChangelogDdl, mssqlChangelogDropDdl, mssqlChangelogNames, MSSQL_ORIGIN_COLUMN } from './mssql/mssql-changelog.ddl';
export type { MssqlChangelogNames } from './mssql/mssql-changelog.ddl';
export { MssqlTableCatalog, mssqlCatalogQueries, keyParam } from './mssql/mssql-table.catalog';
export { MssqlTriggerSource, mssqlTriggerQueries } from './mssql/mssql-trigger.source';
export { MssqlChangelogSource, mssqlChangelogQueries, mapOperation, changelogChangeId } from './mssql/mssql-changelog.source';
export {
  MssqlCdcSource,
  mssqlCdcQueries,
  mssqlOriginCaptureInstance,
  pairCdcRows,
  cdcImage,
  cdcPositionGap,
  CdcPositionGapError,
} from './mssql/mssql-cdc.source';
export type { CdcRow, CdcChange } from './mssql/mssql-cdc.source';
export { encodeRowversion, decodeRowversion, rowversionBefore, encodeLsnPosition, decodeLsnPosition } from './mssql/mssql-position';
export type { LsnPosition } from './mssql/mssql-position';
export type { MssqlStatement, MssqlParam, MssqlParamType } from './mssql/mssql-statement';
export type { WritebackSink, SinkCommand, SinkResult, SinkOutcome, SinkConflict, LegacyVersion, ParkedCommand } from './core/writeback-sink.interface';
export { SinkError, classifyPostgresError, classifyMssqlError, postgresSqlStateKind, mssqlErrorNumberKind } from './core/sink-error';
export type { SinkErrorKind } from './core/sink-error';
export { createWritebackSink } from './writeback-sink.factory';
export { republishOrigin, isRepublishOrigin } from './core/republish-origin';
export { PostgresWritebackSink, postgresWritebackStatements } from './postgres/postgres-writeback.sink';
export type { PgTableMeta, PgStatement } from './postgres/postgres-writeback.sql';
export { MssqlWritebackSink, mssqlWritebackStatements } from './mssql/mssql-writeback.sink';
export { inboxDdl, postgresInboxDdl, mssqlInboxDdl, INBOX_TABLE, PARKED_TABLE } from './core/inbox.ddl';
export { resolveConflict, foldRun, originRuns, keyString } from './core/writeback-plan';
export { mssqlKeyedWrite, explicitIdentityInsert } from './mssql/mssql-identity';
export type { MssqlKeyedWrite } from './mssql/mssql-identity';
export { postgresInboxPrune, mssqlInboxPrune, INBOX_CLOCK_SQL } from './core/inbox-retention.sql';
export type { InboxPruneRule } from './core/inbox-retention.sql';
export { createInboxRetentionStore } from './inbox-retention.store';
export type { InboxRetentionStore } from './inbox-retention.store';
export { describeTable } from './table-description';
export type { TableDescription } from './table-description';
