import type { SystemConfig, TableConfig } from '@sync/config';
import type { CaptureSource } from './capture-source.interface';
import type { ImportLeaseStore } from './import-lease';
import type { InboxRetentionStore } from './inbox-retention';
import type { Dialect, LegacyDb, LegacyDbOptions } from './legacy-db.interface';
import type { SinkError } from './sink-error';
import type { TableDescription } from './table-description';
import type { WritebackSink } from './writeback-sink.interface';

/**
 * Everything one database dialect does for the suite, behind one interface: connecting, every
 * capture mode it supports, the write-back sink, the DDL it needs in a legacy database, inbox
 * retention and error classification. Each dialect folder (postgres/, mssql/) exports one of
 * these; dialects.ts registers them. Nothing in core/ knows a dialect, and no dialect folder
 * imports another (docs/architecture.md).
 */
export interface LegacyDialect {
  readonly name: Dialect;
  /** A pooled connection to one legacy database (not opened until first used). */
  connect(options: LegacyDbOptions, onError: (err: Error) => void): LegacyDb;
  /** The capture source of a table, by its `capture.mode`; throws for a mode the dialect lacks. */
  captureSource(db: LegacyDb, system: SystemConfig, table: TableConfig): CaptureSource;
  writebackSink(db: LegacyDb, system: SystemConfig): WritebackSink;
  /** The suite's objects in the legacy database (changelogs, triggers, inbox ...), reviewable and idempotent. */
  schemaDdl(system: SystemConfig): string[];
  /** Statements that remove the capture objects (never the inbox: it records what was applied). */
  dropDdl(system: SystemConfig): string[];
  /**
   * After applying (or with `drop`, dropping) the DDL: what capture needs that DDL cannot create
   * (PostgreSQL logical decoding: the replication slot). Returns what was done, for the operator.
   */
  prepareCapture?(db: LegacyDb, system: SystemConfig, drop: boolean): Promise<string[]>;
  /** What keeps capture of the system from working (server settings, privileges, table settings); empty when ready. */
  captureProblems?(db: LegacyDb, system: SystemConfig): Promise<string[]>;
  /** Runs DDL the way the dialect can (one transaction where DDL is transactional). */
  applyDdl(db: LegacyDb, statements: readonly string[]): Promise<void>;
  inboxRetention(db: LegacyDb, system: SystemConfig): InboxRetentionStore;
  /** legacy-import's per-unit epochs and capture states (fencing of replicas). */
  importLeases(db: LegacyDb, system: SystemConfig): ImportLeaseStore;
  /** A table's columns and unique keys from the catalog (`sync-ctl validate --db`); undefined when it does not exist. */
  describeTable(db: LegacyDb, schema: string, table: string): Promise<TableDescription | undefined>;
  /** What a driver error means for a write (environment, schema, foreign-key, data). */
  classifyError(err: unknown): SinkError;
}

/** Narrows a LegacyDb to the dialect's own class, or says which system handed the wrong one. */
export function ownDb<T extends LegacyDb>(db: LegacyDb, type: abstract new (...args: never[]) => T, dialect: Dialect): T {
  if (db instanceof type) return db;
  throw new Error(`system ${db.system}: a ${db.dialect} connection was given to the ${dialect} dialect`);
}
