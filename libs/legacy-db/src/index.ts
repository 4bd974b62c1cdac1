export { createLegacyDb } from './legacy-db.factory';
export { LegacyDbModule, LegacyDbRegistry } from './legacy-db.module';
export { PostgresLegacyDb, postgresPoolConfig } from './postgres.legacy-db';
export { MssqlLegacyDb, mssqlPoolConfig } from './mssql.legacy-db';
export type { LegacyDb, LegacyDbOptions, DbTlsOptions, Dialect } from './legacy-db.interface';
export type { CaptureSource, CaptureBatch, CapturedChange, CaptureOp, RejectedChange, SchemaProblem } from './capture/capture-source.interface';
export { changeKeyProblem, decodeChanges } from './capture/change-decoder';
export { createCaptureSource } from './capture/capture-source.factory';
export { changelogNames, NOTIFY_CHANNEL, SELF_LOGGED_SETTING, selfLoggedValue } from './capture/changelog-names';
export { postgresChangelogDdl, postgresChangelogDropDdl } from './capture/postgres-changelog.ddl';
export { normaliseRow, valueKind, parseExactJson } from './capture/value-normalizer';
export type { ValueKind } from './capture/value-normalizer';
export { encodeXidPosition, decodeXidPosition } from './capture/postgres-xid-window';
export type { XidWindowPosition } from './capture/postgres-xid-window';
export { changelogDdl, applyDdl } from './ddl';
export { mssqlChangelogDdl, mssqlChangelogDropDdl, mssqlChangelogNames, MSSQL_ORIGIN_COLUMN } from './capture/mssql-changelog.ddl';
export type { MssqlChangelogNames } from './capture/mssql-changelog.ddl';
export { MssqlTableCatalog, mssqlCatalogQueries, keyParam } from './capture/mssql-table.catalog';
export { MssqlTriggerSource, mssqlTriggerQueries } from './capture/mssql-trigger.source';
export { MssqlChangelogSource, mssqlChangelogQueries, mapOperation, changelogChangeId } from './capture/mssql-changelog.source';
export {
  MssqlCdcSource,
  mssqlCdcQueries,
  mssqlOriginCaptureInstance,
  pairCdcRows,
  cdcImage,
  cdcPositionGap,
  CdcPositionGapError,
} from './capture/mssql-cdc.source';
export type { CdcRow, CdcChange } from './capture/mssql-cdc.source';
export { encodeRowversion, decodeRowversion, rowversionBefore, encodeLsnPosition, decodeLsnPosition } from './capture/mssql-position';
export type { LsnPosition } from './capture/mssql-position';
export type { MssqlStatement, MssqlParam, MssqlParamType } from './capture/mssql-statement';
export type { WritebackSink, SinkCommand, SinkResult, SinkOutcome, SinkConflict, LegacyVersion, ParkedCommand } from './sink/writeback-sink.interface';
export { SinkError, classifyPostgresError, classifyMssqlError, postgresSqlStateKind, mssqlErrorNumberKind } from './sink/sink-error';
export type { SinkErrorKind } from './sink/sink-error';
export { createWritebackSink } from './sink/writeback-sink.factory';
export { republishOrigin, isRepublishOrigin } from './sink/republish-origin';
export { PostgresWritebackSink, postgresWritebackStatements } from './sink/postgres-writeback.sink';
export type { PgTableMeta, PgStatement } from './sink/postgres-writeback.sql';
export { MssqlWritebackSink, mssqlWritebackStatements } from './sink/mssql-writeback.sink';
export { inboxDdl, postgresInboxDdl, mssqlInboxDdl, INBOX_TABLE, PARKED_TABLE } from './sink/inbox.ddl';
export { resolveConflict, foldRun, originRuns, keyString } from './sink/writeback-plan';
export { mssqlKeyedWrite, explicitIdentityInsert } from './sink/mssql-identity';
export type { MssqlKeyedWrite } from './sink/mssql-identity';
export { postgresInboxPrune, mssqlInboxPrune, INBOX_CLOCK_SQL } from './sink/inbox-retention.sql';
export type { InboxPruneRule } from './sink/inbox-retention.sql';
export { createInboxRetentionStore } from './sink/inbox-retention.store';
export type { InboxRetentionStore } from './sink/inbox-retention.store';
export { describeTable } from './catalog/table-description';
export type { TableDescription } from './catalog/table-description';
