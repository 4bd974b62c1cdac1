export { createLegacyDb, createCaptureSource, createWritebackSink, changelogDdl, applyDdl, createInboxRetentionStore, legacyDialect } from './dialects';
export type { LegacyDialect } from './core/dialect';
export { LegacyDbModule, LegacyDbRegistry } from './legacy-db.module';
export { PostgresLegacyDb, postgresPoolConfig } from './postgres/postgres.legacy-db';
export { MssqlLegacyDb, mssqlPoolConfig } from './mssql/mssql.legacy-db';
export type { LegacyDb, LegacyDbOptions, DbTlsOptions, Dialect } from './core/legacy-db.interface';
export type { CaptureSource, CaptureBatch, CapturedChange, CaptureOp, RejectedChange, SchemaProblem } from './core/capture-source.interface';
export { changeKeyProblem, decodeChanges } from './core/change-decoder';
export { changelogNames, NOTIFY_CHANNEL, SELF_LOGGED_SETTING, selfLoggedValue } from './core/changelog-names';
export { postgresChangelogDdl, postgresChangelogDropDdl } from './postgres/postgres-changelog.ddl';
export { normaliseRow, valueKind, parseExactJson } from './core/value-normalizer';
export type { ValueKind } from './core/value-normalizer';
export { encodeXidPosition, decodeXidPosition } from './postgres/postgres-xid-window';
export type { XidWindowPosition } from './postgres/postgres-xid-window';
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
export { SinkError } from './core/sink-error';
export { classifyPostgresError, postgresSqlStateKind } from './postgres/postgres-sink-error';
export { classifyMssqlError, mssqlErrorNumberKind } from './mssql/mssql-sink-error';
export type { SinkErrorKind } from './core/sink-error';
export { republishOrigin, isRepublishOrigin } from './core/republish-origin';
export { PostgresWritebackSink, postgresWritebackStatements } from './postgres/postgres-writeback.sink';
export type { PgTableMeta, PgStatement } from './postgres/postgres-writeback.sql';
export { MssqlWritebackSink, mssqlWritebackStatements } from './mssql/mssql-writeback.sink';
export { INBOX_TABLE, PARKED_TABLE } from './core/inbox-names';
export { postgresInboxDdl } from './postgres/postgres-inbox.ddl';
export { mssqlInboxDdl } from './mssql/mssql-inbox.ddl';
export { resolveConflict, foldRun, originRuns, keyString } from './core/writeback-plan';
export { mssqlKeyedWrite, explicitIdentityInsert } from './mssql/mssql-identity';
export type { MssqlKeyedWrite } from './mssql/mssql-identity';
export { postgresInboxPrune } from './postgres/postgres-inbox-retention.sql';
export { mssqlInboxPrune } from './mssql/mssql-inbox-retention.sql';
export { INBOX_CLOCK_SQL } from './core/inbox-retention';
export type { InboxPruneRule, InboxRetentionStore } from './core/inbox-retention';
