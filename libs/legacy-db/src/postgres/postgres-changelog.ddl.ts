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
function notify(table: TableConfig, indent = '  '): string {
  if (table.capture.mode === 'trigger' && !table.capture.notify) return '';
  return `${indent}-- Identical notifications within one transaction are folded into one by PostgreSQL.
${indent}PERFORM pg_notify('${NOTIFY_CHANNEL}', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
`;
}

function tableDdl(schema: string, table: TableConfig): string[] {
  const names = changelogNames(table);
  const changelog = `${schema}.${q(names.table)}`;
  const base = `${q(table.schema)}.${q(table.name)}`;
  const level = table.capture.mode === 'trigger' ? table.capture.triggerLevel : 'row';
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
    level === 'statement' ? statementFunctionDdl(schema, table) : rowFunctionDdl(schema, table),
    // Switching levels replaces the other level's triggers: at most one set is ever installed.
    ...dropTriggers(base, names),
    ...(level === 'statement' ? statementTriggers(schema, table) : rowTrigger(schema, table)),
  ];
}

const ORIGIN = `NULLIF(current_setting('sync.origin', true), '')`;

function rowFunctionDdl(schema: string, table: TableConfig): string {
  const names = changelogNames(table);
  return `CREATE OR REPLACE FUNCTION ${schema}.${q(names.captureFunction)}() RETURNS trigger LANGUAGE plpgsql AS $capture$
BEGIN
  INSERT INTO ${schema}.${q(names.table)} ("op", "before", "after", "origin")
  VALUES (
    CASE TG_OP WHEN 'INSERT' THEN 'c' WHEN 'UPDATE' THEN 'u' ELSE 'd' END,
    CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
    CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END,
    ${ORIGIN}
  );
${notify(table)}  RETURN NULL;
END
$capture$`;
}

/**
 * The statement level: one INSERT … SELECT per statement from its transition tables. An UPDATE
 * pairs old and new rows by key, which is right only for rows whose key did not change: rows
 * that moved key are recorded one by one by the key-move row trigger (its WHEN clause costs
 * nothing for other rows; TG_LEVEL = 'ROW' below), and the pairing then leaves out every key a
 * move of this statement left or took. The first move of a statement notes its changelog id in
 * a transaction-local setting (per table and trigger depth, so a nested statement has its own);
 * the statement's UPDATE trigger reads the moves from there on, and clears the note. Without a
 * move (the usual case) the UPDATE is one plain join. Rows keep the statement's order.
 * docs/legacy-import.md "Trigger level" explains the choice.
 */
function statementFunctionDdl(schema: string, table: TableConfig): string {
  const names = changelogNames(table);
  const changelog = `${schema}.${q(names.table)}`;
  const keys = table.key.map(q);
  // The subquery's own output names (s.sync_*): a table column named n, o or s cannot shadow them.
  const newKeys = keys.map((k, i) => `n.${k} AS sync_k${i}`).join(', ');
  const join = keys.map((k, i) => `o.${k} = s.sync_k${i}`).join(' AND ');
  const image = (alias: string): string => `jsonb_build_array(${table.key.map((k) => `${alias} -> ${literal(k)}`).join(', ')})`;
  const keyOf = (alias: string): string => `jsonb_build_array(${keys.map((k) => `to_jsonb(${alias}.${k})`).join(', ')})`;
  const notifyLines = notify(table, '    ').trimEnd();
  const notifyIfFound = notifyLines === '' ? '' : `\n  IF FOUND THEN\n${notifyLines}\n  END IF;`;
  const pairs = `SELECT 'u', to_jsonb(o.*), s.sync_image, ${ORIGIN}
      FROM (SELECT row_number() OVER () AS sync_ord, to_jsonb(n.*) AS sync_image, ${newKeys} FROM sync_new AS n) AS s JOIN sync_old AS o ON ${join}`;
  // Dynamic, so the plan sees the id literally and reads the moves by the primary key's range.
  const withMoves = `WITH moved AS MATERIALIZED (
        SELECT ${image('m."before"')} AS old_key, ${image('m."after"')} AS new_key
          FROM ${changelog} AS m
         WHERE m."id" >= %s AND m."tx" = pg_current_xact_id() AND m."op" = 'u'
           AND ${image('m."before"')} IS DISTINCT FROM ${image('m."after"')}
      )
    INSERT INTO ${changelog} ("op", "before", "after", "origin")
    ${pairs}
     WHERE NOT EXISTS (SELECT 1 FROM moved WHERE moved.new_key = jsonb_build_array(${table.key.map((_, i) => `to_jsonb(s.sync_k${i})`).join(', ')}))
       AND NOT EXISTS (SELECT 1 FROM moved WHERE moved.old_key = ${keyOf('o')})
     ORDER BY s.sync_ord`;
  return `CREATE OR REPLACE FUNCTION ${schema}.${q(names.statementFunction)}() RETURNS trigger LANGUAGE plpgsql AS $capture$
DECLARE
  moves_setting text;
  first_move text;
  move_id bigint;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ${changelog} ("op", "after", "origin")
    SELECT 'c', to_jsonb(n.*), ${ORIGIN} FROM sync_new AS n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO ${changelog} ("op", "before", "origin")
    SELECT 'd', to_jsonb(o.*), ${ORIGIN} FROM sync_old AS o;
  ELSE
    moves_setting := 'sync.capture_moves_' || TG_RELID::text || '_' || pg_trigger_depth()::text;
    IF TG_LEVEL = 'ROW' THEN
      INSERT INTO ${changelog} ("op", "before", "after", "origin")
      VALUES ('u', to_jsonb(OLD), to_jsonb(NEW), ${ORIGIN})
      RETURNING "id" INTO move_id;
      IF coalesce(current_setting(moves_setting, true), '') = '' THEN
        PERFORM set_config(moves_setting, move_id::text, true);
      END IF;
    ELSE
      first_move := coalesce(current_setting(moves_setting, true), '');
      IF first_move = '' THEN
        INSERT INTO ${changelog} ("op", "before", "after", "origin")
        ${pairs}
         ORDER BY s.sync_ord;
      ELSE
        PERFORM set_config(moves_setting, '', true);
        EXECUTE format($moves$${withMoves}$moves$, first_move::bigint);
      END IF;
    END IF;
  END IF;${notifyIfFound}
  RETURN NULL;
END
$capture$`;
}

function selfLoggedCondition(table: TableConfig): string {
  return `current_setting('${SELF_LOGGED_SETTING}', true) IS DISTINCT FROM ${literal(selfLoggedValue(table))}`;
}

// The WHEN clause spares the function call (and its INSERT) for the write-back's own statements,
// which record their rows set-based themselves (SELF_LOGGED_SETTING).
function rowTrigger(schema: string, table: TableConfig): string[] {
  const names = changelogNames(table);
  return [
    `CREATE TRIGGER ${q(names.trigger)} AFTER INSERT OR UPDATE OR DELETE ON ${q(table.schema)}.${q(table.name)} FOR EACH ROW
  WHEN (${selfLoggedCondition(table)})
  EXECUTE FUNCTION ${schema}.${q(names.captureFunction)}()`,
  ];
}

function statementTriggers(schema: string, table: TableConfig): string[] {
  const names = changelogNames(table);
  const t = names.statementTriggers;
  const base = `${q(table.schema)}.${q(table.name)}`;
  const fn = `${schema}.${q(names.statementFunction)}()`;
  const when = `WHEN (${selfLoggedCondition(table)})`;
  const keys = table.key.map(q);
  // A key component that is NULL cannot be paired by key either: such rows go row by row too.
  const moved = `ROW(${keys.map((k) => `OLD.${k}`).join(', ')}) IS DISTINCT FROM ROW(${keys.map((k) => `NEW.${k}`).join(', ')})${keys.map((k) => ` OR OLD.${k} IS NULL`).join('')}`;
  return [
    `CREATE TRIGGER ${q(t.insert)} AFTER INSERT ON ${base} REFERENCING NEW TABLE AS sync_new FOR EACH STATEMENT
  ${when}
  EXECUTE FUNCTION ${fn}`,
    `CREATE TRIGGER ${q(t.delete)} AFTER DELETE ON ${base} REFERENCING OLD TABLE AS sync_old FOR EACH STATEMENT
  ${when}
  EXECUTE FUNCTION ${fn}`,
    `CREATE TRIGGER ${q(t.keyMove)} AFTER UPDATE ON ${base} FOR EACH ROW
  WHEN (${selfLoggedCondition(table)} AND (${moved}))
  EXECUTE FUNCTION ${fn}`,
    `CREATE TRIGGER ${q(t.update)} AFTER UPDATE ON ${base} REFERENCING OLD TABLE AS sync_old NEW TABLE AS sync_new FOR EACH STATEMENT
  ${when}
  EXECUTE FUNCTION ${fn}`,
  ];
}

function dropTriggers(base: string, names: ReturnType<typeof changelogNames>): string[] {
  return [names.trigger, ...Object.values(names.statementTriggers)].map((t) => `DROP TRIGGER IF EXISTS ${q(t)} ON ${base}`);
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
        ...dropTriggers(`${q(table.schema)}.${q(table.name)}`, names),
        `DROP FUNCTION IF EXISTS ${schema}.${q(names.captureFunction)}()`,
        `DROP FUNCTION IF EXISTS ${schema}.${q(names.statementFunction)}()`,
        `DROP TABLE IF EXISTS ${schema}.${q(names.table)}`,
      ];
    });
}
