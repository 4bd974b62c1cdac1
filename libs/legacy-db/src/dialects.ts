import type { SystemConfig, TableConfig } from '@sync/config';
import type { CaptureSource } from './core/capture-source.interface';
import type { LegacyDialect } from './core/dialect';
import type { TableDescription } from './core/table-description';
import type { InboxRetentionStore } from './core/inbox-retention';
import type { ImportLeaseStore } from './core/import-lease';
import type { Dialect, LegacyDb, LegacyDbOptions } from './core/legacy-db.interface';
import type { WritebackSink } from './core/writeback-sink.interface';
import { mssqlDialect } from './mssql/mssql.dialect';
import { postgresDialect } from './postgres/postgres.dialect';

/** The dialect registry: the one place that knows every dialect. A third dialect is one folder and one line here. */
const DIALECTS: Readonly<Record<Dialect, LegacyDialect>> = { postgres: postgresDialect, mssql: mssqlDialect };

export function legacyDialect(name: Dialect): LegacyDialect {
  const dialect = DIALECTS[name] as LegacyDialect | undefined;
  if (!dialect) throw new Error(`unsupported dialect ${String(name)}`);
  return dialect;
}

export function createLegacyDb(options: LegacyDbOptions, onError: (err: Error) => void): LegacyDb {
  return legacyDialect(options.dialect).connect(options, onError);
}

/** The capture source for a table, by its system's dialect and the table's capture mode. */
export function createCaptureSource(db: LegacyDb, system: SystemConfig, table: TableConfig): CaptureSource {
  return legacyDialect(db.dialect).captureSource(db, system, table);
}

/** The write-back sink for a system's dialect, on the system's pool. */
export function createWritebackSink(db: LegacyDb, system: SystemConfig): WritebackSink {
  return legacyDialect(db.dialect).writebackSink(db, system);
}

/**
 * The suite's objects in a legacy database (changelogs, triggers, watermark columns, the
 * write-back inbox and parked table), as reviewable statements. Dropping keeps the inbox: it is
 * the record of what the write-back applied.
 */
export function changelogDdl(system: SystemConfig, drop = false): string[] {
  const dialect = legacyDialect(system.dialect);
  return drop ? dialect.dropDdl(system) : dialect.schemaDdl(system);
}

/** Runs DDL: in one transaction on PostgreSQL (all or nothing); batch by batch on SQL Server. */
export function applyDdl(db: LegacyDb, statements: readonly string[]): Promise<void> {
  return legacyDialect(db.dialect).applyDdl(db, statements);
}

/** After the DDL: what capture needs beyond it (PostgreSQL logical decoding: the slot). Returns what was done. */
export async function prepareCapture(db: LegacyDb, system: SystemConfig, drop = false): Promise<string[]> {
  return (await legacyDialect(db.dialect).prepareCapture?.(db, system, drop)) ?? [];
}

/** What keeps capture of a system from working (`sync-ctl schema --verify`); empty when ready. */
export async function captureProblems(db: LegacyDb, system: SystemConfig): Promise<string[]> {
  return (await legacyDialect(db.dialect).captureProblems?.(db, system)) ?? [];
}

export function createInboxRetentionStore(db: LegacyDb, system: SystemConfig): InboxRetentionStore {
  return legacyDialect(db.dialect).inboxRetention(db, system);
}

/** A table's columns and unique keys as its database describes them; undefined when it does not exist. */
export function describeTable(db: LegacyDb, schema: string, table: string): Promise<TableDescription | undefined> {
  return legacyDialect(db.dialect).describeTable(db, schema, table);
}

/** legacy-import's lease table of a system: per-unit epochs and the capture states saved under them. */
export function createImportLeaseStore(db: LegacyDb, system: SystemConfig): ImportLeaseStore {
  return legacyDialect(db.dialect).importLeases(db, system);
}
