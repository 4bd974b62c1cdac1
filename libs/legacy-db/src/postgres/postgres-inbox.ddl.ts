import { quoteIdent, type TableConfig } from '@sync/config';
import { changelogNames } from '../core/changelog-names';
import { INBOX_TABLE, PARKED_TABLE } from '../core/inbox-names';

const pq = (name: string): string => quoteIdent('postgres', name);

/**
 * The write-back inbox (one row per applied command id, written in the same transaction as the
 * rows, so a redelivered command is recognised and its recorded result re-published) and the
 * parked-commands table (commands whose foreign-key target was still missing after retries).
 */
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

