import { quoteIdent, type SystemConfig, type TableConfig } from '@sync/config';
import { changelogNames } from './changelog-names';
import { nstr, qi } from '../mssql/mssql-statement';

/** Table names of the write-back's own state in the sync schema. */
export const INBOX_TABLE = 'inbox';
export const PARKED_TABLE = 'writeback_parked';

const pq = (name: string): string => quoteIdent('postgres', name);

/**
 * The write-back inbox (one row per applied command id, written in the same transaction as the
 * rows, so a redelivered command is recognised and its recorded result re-published) and the
 * parked-commands table (commands whose foreign-key target was still missing after retries).
 * The SQL Server CDC capture joins the inbox's `origin` by commit LSN (docs/sqlserver.md).
 */
export function inboxDdl(system: SystemConfig): string[] {
  switch (system.dialect) {
    case 'postgres':
      return [...postgresInboxDdl(system.syncSchema), ...system.tables.flatMap((t) => postgresConflictIndexDdl(system.syncSchema, t))];
    case 'mssql':
      return mssqlInboxDdl(system.syncSchema);
  }
}

export function postgresInboxDdl(syncSchema: string): string[] {
  const schema = pq(syncSchema);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${schema}`,
    `CREATE TABLE IF NOT EXISTS ${schema}.${pq(INBOX_TABLE)} (
  "command_id" text PRIMARY KEY,
  "system" text NOT NULL,
  "schema_name" text NOT NULL,
  "table_name" text NOT NULL,
  "global_id" text NOT NULL,
  "origin" text NOT NULL,
  "outcome" text NOT NULL CHECK ("outcome" IN ('applied', 'skipped-conflict')),
  "result" jsonb,
  "applied_at" timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
    `CREATE INDEX IF NOT EXISTS ${pq(`${INBOX_TABLE}_applied_at`)} ON ${schema}.${pq(INBOX_TABLE)} ("applied_at")`,
    `CREATE TABLE IF NOT EXISTS ${schema}.${pq(PARKED_TABLE)} (
  "command_id" text PRIMARY KEY,
  "system" text NOT NULL,
  "schema_name" text NOT NULL,
  "table_name" text NOT NULL,
  "global_id" text NOT NULL,
  "command" jsonb NOT NULL,
  "reason" text NOT NULL,
  "parked_at" timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
  ];
}

/**
 * Conflict detection looks up the latest legacy changes of a row by key in the trigger changelog;
 * this expression index (the same expression and predicate as the write-back's query) keeps that
 * a lookup instead of a scan of every change since `basedOn`. It is partial: only legacy changes
 * (`origin IS NULL`) are ever looked up, so the write-back's own changelog rows do not pay for an
 * entry. Replaces the earlier full index `<changelog>_key`.
 */
export function postgresConflictIndexDdl(syncSchema: string, table: TableConfig): string[] {
  if (table.capture.mode !== 'trigger') return [];
  const names = changelogNames(table);
  const keys = table.key.map((k) => `(COALESCE("after", "before") ->> '${k.replaceAll("'", "''")}')`).join(', ');
  return [
    `DROP INDEX IF EXISTS ${pq(syncSchema)}.${pq(`${names.table}_key`.slice(0, 60))}`,
    `CREATE INDEX IF NOT EXISTS ${pq(names.conflictIndex)} ON ${pq(syncSchema)}.${pq(names.table)} (${keys}, "id") WHERE "origin" IS NULL`,
  ];
}

export function mssqlInboxDdl(syncSchema: string): string[] {
  const inbox = `${qi(syncSchema)}.${qi(INBOX_TABLE)}`;
  const parked = `${qi(syncSchema)}.${qi(PARKED_TABLE)}`;
  return [
    `IF SCHEMA_ID(${nstr(syncSchema)}) IS NULL EXEC(${nstr(`CREATE SCHEMA ${qi(syncSchema)} AUTHORIZATION [dbo]`)})`,
    `IF OBJECT_ID(${nstr(inbox)}, N'U') IS NULL
CREATE TABLE ${inbox} (
  [command_id] nvarchar(400) NOT NULL PRIMARY KEY,
  [system] nvarchar(128) NOT NULL,
  [schema_name] nvarchar(128) NOT NULL,
  [table_name] nvarchar(128) NOT NULL,
  [global_id] nvarchar(400) NOT NULL,
  [origin] nvarchar(128) NOT NULL,
  [outcome] varchar(20) NOT NULL CHECK ([outcome] IN ('applied', 'skipped-conflict')),
  [result] nvarchar(max) NULL,
  [applied_at] datetime2 NOT NULL DEFAULT SYSUTCDATETIME()
)`,
    `IF OBJECT_ID(${nstr(parked)}, N'U') IS NULL
CREATE TABLE ${parked} (
  [command_id] nvarchar(400) NOT NULL PRIMARY KEY,
  [system] nvarchar(128) NOT NULL,
  [schema_name] nvarchar(128) NOT NULL,
  [table_name] nvarchar(128) NOT NULL,
  [global_id] nvarchar(400) NOT NULL,
  [command] nvarchar(max) NOT NULL,
  [reason] nvarchar(2000) NOT NULL,
  [parked_at] datetime2 NOT NULL DEFAULT SYSUTCDATETIME()
)`,
  ];
}
