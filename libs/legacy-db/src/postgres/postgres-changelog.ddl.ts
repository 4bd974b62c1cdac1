import { quoteIdent, type SystemConfig, type TableConfig } from '@sync/config';
import { changelogNames, NOTIFY_CHANNEL, SELF_LOGGED_SETTING, selfLoggedValue } from '../core/changelog-names';

const q = (name: string): string => quoteIdent('postgres', name);

/**
 * Reviewable DDL for the trigger capture mode on PostgreSQL: the sync schema, one changelog table
 * per captured table (full row images as jsonb, the writer's origin from `sync.origin`, the
 * transaction id as xid8 for the commit-safe watermark), its trigger, and the write-back inbox.
 * Idempotent: it can be applied again after a change to the table list.
 */
export function postgresChangelogDdl(system: SystemConfig): string[] {
  const schema = q(system.syncSchema);
  const statements = [`CREATE SCHEMA IF NOT EXISTS ${schema}`];
  for (const table of system.tables) {
    if (table.capture.mode === 'trigger') statements.push(...tableDdl(schema, table));
    if (table.capture.mode === 'changelog') statements.push(...watermarkDdl(table.capture));
  }
  return statements;
}

/**
 * An existing changelog gets an xid8 column filled by the database itself, so the legacy
 * application needs no change; it is the commit-safe watermark for reading that log.
 */
function watermarkDdl(capture: Extract<TableConfig['capture'], { mode: 'changelog' }>): string[] {
  const log = `${q(capture.changelogSchema)}.${q(capture.changelogTable)}`;
  const column = q(capture.watermarkColumn);
  return [
    `ALTER TABLE ${log} ADD COLUMN IF NOT EXISTS ${column} xid8 NOT NULL DEFAULT pg_current_xact_id()`,
    `CREATE INDEX IF NOT EXISTS ${q(`${capture.changelogTable}_${capture.watermarkColumn}`.slice(0, 60))} ON ${log} (${column})`,
  ];
}

/** The wake-up, unless the table turns it off (notifying transactions commit one at a time). */
function notify(table: TableConfig): string {
  if (table.capture.mode === 'trigger' && !table.capture.notify) return '';
  return `  -- Identical notifications within one transaction are folded into one by PostgreSQL.
  PERFORM pg_notify('${NOTIFY_CHANNEL}', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
`;
}

function tableDdl(schema: string, table: TableConfig): string[] {
  const names = changelogNames(table);
  const changelog = `${schema}.${q(names.table)}`;
  const fn = `${schema}.${q(names.captureFunction)}`;
  const base = `${q(table.schema)}.${q(table.name)}`;
  return [
    `CREATE TABLE IF NOT EXISTS ${changelog} (
  "id" bigserial PRIMARY KEY,
  "tx" xid8 NOT NULL DEFAULT pg_current_xact_id(),
  "op" char(1) NOT NULL CHECK ("op" IN ('c', 'u', 'd')),
  "before" jsonb,
  "after" jsonb,
  "origin" text,
  "changed_at" timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
    `CREATE INDEX IF NOT EXISTS ${q(names.txIndex)} ON ${changelog} ("tx")`,
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $capture$
BEGIN
  INSERT INTO ${changelog} ("op", "before", "after", "origin")
  VALUES (
    CASE TG_OP WHEN 'INSERT' THEN 'c' WHEN 'UPDATE' THEN 'u' ELSE 'd' END,
    CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
    CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END,
    NULLIF(current_setting('sync.origin', true), '')
  );
${notify(table)}  RETURN NULL;
END
$capture$`,
    `DROP TRIGGER IF EXISTS ${q(names.trigger)} ON ${base}`,
    // The WHEN clause spares the function call (and its per-row INSERT) for the write-back's own
    // statements, which record their rows set-based themselves (SELF_LOGGED_SETTING).
    `CREATE TRIGGER ${q(names.trigger)} AFTER INSERT OR UPDATE OR DELETE ON ${base} FOR EACH ROW
  WHEN (current_setting('${SELF_LOGGED_SETTING}', true) IS DISTINCT FROM ${literal(selfLoggedValue(table))})
  EXECUTE FUNCTION ${fn}()`,
  ];
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** DDL that removes what postgresChangelogDdl created for the given tables (not the schema). */
export function postgresChangelogDropDdl(system: SystemConfig): string[] {
  const schema = q(system.syncSchema);
  return system.tables
    .filter((t) => t.capture.mode === 'trigger')
    .flatMap((table) => {
      const names = changelogNames(table);
      return [
        `DROP TRIGGER IF EXISTS ${q(names.trigger)} ON ${q(table.schema)}.${q(table.name)}`,
        `DROP FUNCTION IF EXISTS ${schema}.${q(names.captureFunction)}()`,
        `DROP TABLE IF EXISTS ${schema}.${q(names.table)}`,
      ];
    });
}
