// The public API of @sync/legacy-db: what the apps, scripts and other libs use. Tests reach
// internals by path (the lint rule allows that from test/ only); docs/architecture.md.
export { createLegacyDb, createCaptureSource, createWritebackSink, changelogDdl, applyDdl, prepareCapture, captureProblems, createInboxRetentionStore, createImportLeaseStore, legacyDialect } from './dialects';
export type { LegacyDialect } from './core/dialect';
export { LegacyDbModule, LegacyDbRegistry } from './legacy-db.module';
export { PostgresLegacyDb } from './postgres/postgres.legacy-db';
export type { LegacyDb, LegacyDbOptions, Dialect } from './core/legacy-db.interface';
export type { CaptureSource, CaptureBatch, CapturedChange, CaptureOp, ReplicationLag } from './core/capture-source.interface';
export { changelogNames, NOTIFY_CHANNEL } from './core/changelog-names';
export type { WritebackSink, SinkCommand, SinkResult, SinkOutcome, SinkConflict, LegacyVersion, ParkedCommand } from './core/writeback-sink.interface';
export { SinkError } from './core/sink-error';
export { classifyPostgresError } from './postgres/postgres-sink-error';
export type { SinkErrorKind } from './core/sink-error';
export { isRepublishOrigin } from './core/republish-origin';
export { PostgresWritebackSink } from './postgres/postgres-writeback.sink';
export { keyString } from './core/writeback-plan';
export type { InboxRetentionStore } from './core/inbox-retention';
export { describeTable } from './dialects';
export type { TableDescription, DescribedColumn } from './core/table-description';
export type { ImportLeaseStore, LeaseTakeover } from './core/import-lease';
export { IMPORT_LEASE_TABLE } from './core/import-lease';
