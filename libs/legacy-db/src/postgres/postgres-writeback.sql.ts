import { quoteIdent, type TableConfig } from '@sync/config';
import type { Row } from '../core/capture-source.interface';
import { SELF_LOGGED_SETTING } from '../core/changelog-names';
import { INBOX_TABLE, PARKED_TABLE } from '../core/inbox-names';
import type { InboxRow, UpsertRow } from '../core/writeback-plan';

const q = (name: string): string => quoteIdent('postgres', name);

/** A parameterised PostgreSQL statement, built by the pure functions below. */
export interface PgStatement {
  readonly text: string;
  readonly values: unknown[];
}

/** Column types of a legacy table as `format_type` prints them (valid cast targets). */
export interface PgTableMeta {
  readonly types: ReadonlyMap<string, string>;
  /** The table has an identity column: inserts of explicit keys need OVERRIDING SYSTEM VALUE. */
  readonly hasIdentity: boolean;
  /** Sequence behind the generated key column, when there is one. */
  readonly keySequence: string | null;
  /**
   * The table's capture trigger stays silent for writers that record their rows themselves
   * (its WHEN clause tests SELF_LOGGED_SETTING): the write-back then writes the changelog rows.
   * False for a trigger created by an earlier version (it would record every row a second time).
   */
  readonly selfLogged?: boolean;
  /**
   * Unique indexes on exactly the key columns. With one, inserts are plain INSERTs and a key
   * another transaction inserted meanwhile fails them (the sink redoes the batch); without one,
   * `ON CONFLICT (key)` as before.
   */
  readonly keyIndexes?: readonly string[];
}

/** PostgreSQL accepts at most 65535 parameters per statement. */
export const PG_MAX_PARAMS = 60_000;

/** Rows per array-parameter statement (parameters are constant; this bounds memory and lock lists). */
export const PG_MAX_ROWS = 10_000;

export function qualified(table: TableConfig): string {
  return `${q(table.schema)}.${q(table.name)}`;
}

export const pgCatalogQuery = `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attidentity <> '' AS identity
  FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`;

export const pgSequenceQuery = 'SELECT pg_get_serial_sequence($1, $2) AS seq';

/** Unique, non-partial indexes of table $1 on exactly the columns $2 (in any order). */
export const pgKeyIndexesQuery = `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
    AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text) FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey))
      = (SELECT array_agg(k ORDER BY k) FROM unnest($2::text[]) AS k)`;

/**
 * Whether the table's capture triggers (any of the names $2: the row trigger, or the statement
 * level's) are there and all have the WHEN clause that lets writers record their own rows.
 */
export const pgSelfLoggedTriggerQuery = `SELECT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = $1::regclass AND t.tgname = ANY ($2::text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = $1::regclass AND t.tgname = ANY ($2::text[])
    AND position('${SELF_LOGGED_SETTING}' IN pg_get_triggerdef(t.oid)) = 0) AS self_logged`;

function typeOf(meta: PgTableMeta, column: string): string {
  const type = meta.types.get(column);
  if (!type) throw new Error(`unknown column ${column}`);
  return type;
}

/** json/jsonb values are sent as JSON text: pg would turn a JS array into a PostgreSQL array literal. */
function param(json: boolean, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (json && typeof value !== 'string') return JSON.stringify(value);
  if (typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) return JSON.stringify(value);
  return value;
}

/**
 * An array parameter as a PostgreSQL array literal, built here in one pass: the same text pg
 * would send (every element quoted, `\` and `"` escaped, NULL unquoted), at a fraction of its
 * cost per element. Arrays holding anything but strings, numbers and booleans (dates, buffers)
 * are left to pg.
 */
export function arrayParam(values: readonly unknown[]): unknown {
  let text = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) text += ',';
    if (v === null || v === undefined) {
      text += 'NULL';
      continue;
    }
    const kind = typeof v;
    if (kind !== 'string' && kind !== 'number' && kind !== 'boolean' && kind !== 'bigint') return values;
    const s = String(v);
    text += NEEDS_ESCAPE.test(s) ? `"${s.replace(ESCAPED, '\\$&')}"` : `"${s}"`;
  }
  return `${text}}`;
}

const NEEDS_ESCAPE = /["\\]/;
const ESCAPED = /["\\]/g;

/**
 * Rows travel as one array parameter per column (`unnest($1::int[], $2::text[], ...)`): a constant
 * number of parameters whatever the batch size, so statements stay cheap to parse and plan.
 * Array-typed columns cannot travel this way (unnest would flatten them). `value(column, i)` reads
 * row i's value of a column (no merged row objects: this runs for every row of every batch).
 */
function columnArrays(meta: PgTableMeta, columns: readonly string[], count: number, value: (column: string, i: number) => unknown): { values: unknown[]; unnest: string } {
  const values: unknown[] = [];
  const casts = columns.map((c, n) => {
    const type = typeOf(meta, c);
    if (type.endsWith(']')) throw new Error(`array column ${c} (${type}) is not supported by the write-back`);
    const json = type === 'json' || type === 'jsonb';
    const column = new Array<unknown>(count);
    for (let i = 0; i < count; i++) column[i] = param(json, value(c, i));
    values.push(arrayParam(column));
    return `$${n + 1}::${type}[]`;
  });
  return { values, unnest: `unnest(${casts.join(', ')})` };
}

function keyArrays(table: TableConfig, meta: PgTableMeta, keys: readonly Row[]): { values: unknown[]; unnest: string } {
  return columnArrays(meta, table.key, keys.length, (c, i) => keys[i]![c]);
}

/** Key columns from the row's key, the others from its columns. */
function upsertArrays(table: TableConfig, meta: PgTableMeta, columns: readonly string[], rows: readonly UpsertRow[]): { values: unknown[]; unnest: string } {
  const keys = new Set(table.key);
  return columnArrays(meta, [...table.key, ...columns], rows.length, (c, i) => (keys.has(c) ? rows[i]!.key[c] : rows[i]!.columns[c]));
}

/** `v.k0`, `v.k1`, ...: the key columns of an `unnest(...) AS v(k0, k1, ...)` row. */
function keyAliases(table: TableConfig): string {
  return table.key.map((_, i) => `k${i}`).join(', ');
}

function keyMatch(table: TableConfig, alias: string): string {
  return table.key.map((k, i) => `${alias}.${q(k)} = v.k${i}`).join(' AND ');
}

/**
 * Locks the existing rows among `keys` (so a concurrent legacy edit either committed before the
 * conflict check or waits) and says which exist: one row, `found`, a '1' or '0' per key in the
 * order given (no key text to compare, no result row per key). One key lookup per key, whatever
 * the planner's row estimates (a LATERAL subquery with a row lock is never flattened into a hash
 * join that would read the whole table).
 */
export function pgLockRows(table: TableConfig, meta: PgTableMeta, keys: readonly Row[]): PgStatement {
  const a = keyArrays(table, meta, keys);
  return {
    text: `SELECT string_agg(CASE WHEN l.found THEN '1' ELSE '0' END, '' ORDER BY v.n) AS found
  FROM ${a.unnest} WITH ORDINALITY AS v(${keyAliases(table)}, n)
  LEFT JOIN LATERAL (SELECT true AS found FROM ${qualified(table)} AS t WHERE ${keyMatch(table, 't')} FOR UPDATE OF t) AS l ON true`,
    values: a.values,
  };
}

export interface ConflictProbe {
  readonly index: number;
  readonly basedOn: string;
  readonly key: Row;
}

/**
 * The latest change of each probed row in the trigger changelog that the suite did not write
 * (`origin IS NULL`) and that comes after `basedOn` (a changelog id). Row images are compared on
 * the key columns as text.
 */
export function pgConflicts(table: TableConfig, changelog: string, probes: readonly ConflictProbe[]): PgStatement {
  const values: unknown[] = [
    arrayParam(probes.map((p) => p.index)),
    arrayParam(probes.map((p) => p.basedOn)),
    ...table.key.map((k) => arrayParam(probes.map((p) => String(p.key[k])))),
  ];
  const casts = ['$1::int[]', '$2::bigint[]', ...table.key.map((_, i) => `$${i + 3}::text[]`)].join(', ');
  const alias = ['i', 'based_on', ...table.key.map((_, i) => `k${i}`)].join(', ');
  // Same expression as the changelog key index (postgresConflictIndexDdl), so the lookup uses it.
  const match = table.key.map((k, i) => `(COALESCE(c."after", c."before") ->> ${literal(k)}) = v.k${i}`).join(' AND ');
  return {
    text: `SELECT v.i, l.id::text AS position, l.op, l.changed_at, l.after::text AS after
  FROM unnest(${casts}) AS v(${alias})
  CROSS JOIN LATERAL (
    SELECT c."id" AS id, c."op" AS op, c."changed_at" AS changed_at, c."after" AS after FROM ${changelog} c
     WHERE c."id" > v.based_on AND c."origin" IS NULL AND ${match}
     ORDER BY c."id" DESC LIMIT 1) l`,
    values,
  };
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The origin the capture trigger records: the transaction's marker, NULL when unset. */
const ORIGIN = "NULLIF(current_setting('sync.origin', true), '')";

/**
 * A data-modifying statement whose RETURNING yields `op, before, after` (jsonb row images), wrapped
 * so its rows land in the trigger changelog in the same statement, as the row trigger would have
 * written them. Set-based: far cheaper than the trigger's INSERT per row, which the
 * SELF_LOGGED_SETTING switches off for this table.
 */
function logged(statement: string, changelog: string): string {
  return `WITH w AS (${statement})
INSERT INTO ${changelog} ("op", "before", "after", "origin") SELECT w.op, w.before, w.after, ${ORIGIN} FROM w`;
}

const DELETED = "RETURNING 'd'::char(1) AS op, to_jsonb(t.*) AS before, NULL::jsonb AS after";

/**
 * Deletes rows this transaction holds locked (pgLockRows), located by one key lookup each and
 * deleted by row address, like pgUpdate. With `changelog`, records each deleted row's image there.
 */
export function pgDeleteLocked(table: TableConfig, meta: PgTableMeta, keys: readonly Row[], changelog?: string): PgStatement {
  const a = keyArrays(table, meta, keys);
  const del = `DELETE FROM ${qualified(table)} AS t
  USING ${a.unnest} AS v(${keyAliases(table)})
  CROSS JOIN LATERAL (SELECT o.ctid AS row_id FROM ${qualified(table)} AS o WHERE ${keyMatch(table, 'o')} LIMIT 1) AS x
  WHERE t.ctid = x.row_id`;
  return { text: changelog ? logged(`${del}\n  ${DELETED}`, changelog) : del, values: a.values };
}

/**
 * Deletes by key rows that did not exist when the batch locked its rows (one a legacy transaction
 * inserted since is deleted too). Matched by value, not by row address: a row another transaction
 * changes meanwhile is re-checked by key. With `changelog`, records each deleted row's image there.
 */
export function pgDelete(table: TableConfig, meta: PgTableMeta, keys: readonly Row[], changelog?: string): PgStatement {
  const a = keyArrays(table, meta, keys);
  const del = `DELETE FROM ${qualified(table)} AS t WHERE (${table.key.map((k) => `t.${q(k)}`).join(', ')}) IN (SELECT * FROM ${a.unnest})`;
  return { text: changelog ? logged(`${del}\n  ${DELETED}`, changelog) : del, values: a.values };
}


/**
 * Partial update of existing rows: only `columns` are set, so NOT NULL columns the command omits
 * keep their values. Only for rows this transaction holds locked (pgLockRows): each is located by
 * one key lookup and updated by its row address (ctid), which no one else can move before we
 * commit. Joining by key instead lets the planner hash the whole table when its statistics are
 * stale. With `changelog`, records each updated row there with its after image only: the before
 * image is the after image of the row's previous changelog entry, nothing reads it for the
 * write-back's own rows (legacy-import skips them), and computing it (`to_jsonb` of the old row)
 * was a quarter of this statement's cost.
 */
export function pgUpdate(table: TableConfig, meta: PgTableMeta, columns: readonly string[], rows: readonly UpsertRow[], changelog?: string): PgStatement {
  const a = upsertArrays(table, meta, columns, rows);
  const aliases = [...table.key.map((_, i) => `k${i}`), ...columns.map((_, i) => `c${i}`)].join(', ');
  const update = `UPDATE ${qualified(table)} AS t SET ${columns.map((c, i) => `${q(c)} = v.c${i}`).join(', ')}
  FROM ${a.unnest} AS v(${aliases})
  CROSS JOIN LATERAL (SELECT o.ctid AS row_id FROM ${qualified(table)} AS o WHERE ${keyMatch(table, 'o')} LIMIT 1) AS x
  WHERE t.ctid = x.row_id`;
  return {
    text: changelog ? logged(`${update}\n  RETURNING 'u'::char(1) AS op, NULL::jsonb AS before, to_jsonb(t.*) AS after`, changelog) : update,
    values: a.values,
  };
}

/**
 * Insert of rows that did not exist when the batch locked its rows (or got their keys from the
 * sequence). A plain INSERT when the key has a unique index (cheaper than ON CONFLICT's
 * speculative insertion): a row with the same key that a legacy transaction inserted meanwhile
 * makes it fail with a unique violation on that index, and the sink redoes the batch, which then
 * finds the row, checks it for conflicts and updates it; a generated key that collides with a row
 * the legacy application inserted with an explicit key is drawn again instead of overwriting that
 * row. Without such an index, `ON CONFLICT (key)` covers the race. With `changelog`, records each
 * written row there: `c`, or `u` (without a before image) for a row ON CONFLICT updated (a fresh
 * insert's xmax is 0).
 */
export function pgInsert(table: TableConfig, meta: PgTableMeta, columns: readonly string[], rows: readonly UpsertRow[], changelog?: string): PgStatement {
  const all = [...table.key, ...columns];
  const a = upsertArrays(table, meta, columns, rows);
  const plain = (meta.keyIndexes?.length ?? 0) > 0;
  const onConflict = plain
    ? ''
    : `\n  ON CONFLICT (${table.key.map(q).join(', ')}) ${columns.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${columns.map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ')}`}`;
  const insert = `INSERT INTO ${qualified(table)} AS t (${all.map(q).join(', ')})${meta.hasIdentity ? ' OVERRIDING SYSTEM VALUE' : ''}
  SELECT * FROM ${a.unnest}${onConflict}`;
  const op = plain ? "'c'::char(1)" : "(CASE WHEN t.xmax = 0 THEN 'c' ELSE 'u' END)::char(1)";
  return {
    text: changelog ? logged(`${insert}\n  RETURNING ${op} AS op, NULL::jsonb AS before, to_jsonb(t.*) AS after`, changelog) : insert,
    values: a.values,
  };
}

/** A unique violation on one of the key's indexes (see pgInsert). */
export function isKeyTaken(err: unknown, table: TableConfig, meta: PgTableMeta): boolean {
  const e = err as { code?: unknown; schema?: unknown; table?: unknown; constraint?: unknown } | null;
  return (
    typeof e === 'object' && e !== null && e.code === '23505' && e.schema === table.schema && e.table === table.name && (meta.keyIndexes ?? []).includes(String(e.constraint))
  );
}

/** Draws `count` values from the key's sequence, so each generated-key insert knows its key before it is written. */
export function pgAllocateKeys(sequence: string, count: number): PgStatement {
  return { text: 'SELECT nextval($1::regclass)::text AS k FROM generate_series(1, $2::int)', values: [sequence, count] };
}

/**
 * Opens a write-back transaction. JIT compilation is off for it: its statements are key lookups
 * and writes that take milliseconds, but a row estimate from stale statistics (a changelog that
 * grew since the last ANALYZE) can push one over jit_above_cost, and compiling then takes
 * hundreds of milliseconds per statement.
 */
export const pgBegin = 'BEGIN; SET LOCAL jit = off';

/**
 * Sets the origin marker (transaction-local) the changelog triggers record and the importer skips
 * (echo suppression); `selfLogged` (the table's SELF_LOGGED_SETTING value, or '') says the
 * statements that follow record their rows in the changelog themselves.
 */
export function pgSetOrigin(origin: string, selfLogged = ''): PgStatement {
  return { text: `SELECT set_config('sync.origin', $1, true), set_config('${SELF_LOGGED_SETTING}', $2, true), ${PG_ORIGIN_MESSAGE}`, values: [origin, selfLogged] };
}

/**
 * The same marker for logical decoding (capture.mode logical), which sees no session settings: a
 * transactional message in the WAL, decoded in order with the rows, so the rows after it carry
 * this origin (postgres-logical.hub.ts). Any user may emit one, on every wal_level; it costs one
 * small WAL record per origin run.
 */
export const PG_ORIGIN_MESSAGE = "pg_logical_emit_message(true, 'sync.origin', $1::text)";

/** Recorded commands among `commandIds`: one primary-key lookup per id (never a scan of the inbox, which only grows). */
export function pgInboxLookup(syncSchema: string, commandIds: readonly string[]): PgStatement {
  return {
    text: `SELECT i.* FROM unnest($1::text[]) AS v(id)
  CROSS JOIN LATERAL (SELECT "command_id", "outcome", "result"::text AS result FROM ${q(syncSchema)}.${q(INBOX_TABLE)} WHERE "command_id" = v.id LIMIT 1) AS i`,
    values: [arrayParam(commandIds)],
  };
}


/**
 * The inbox rows of a batch's commands, written before any of its rows (same transaction). A plain
 * INSERT, cheaper than ON CONFLICT: a command id already recorded (a redelivery) fails it with a
 * unique violation on the inbox key, and the sink then redoes the batch looking the inbox up first.
 */
export function pgInboxInsert(syncSchema: string, table: TableConfig, rows: readonly InboxRow[]): PgStatement {
  return {
    text: `INSERT INTO ${q(syncSchema)}.${q(INBOX_TABLE)} ("command_id", "system", "schema_name", "table_name", "global_id", "origin", "outcome", "result")
  SELECT u.c, $2, $3, $4, u.g, u.o, u.oc, u.r FROM unnest($1::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[]) AS u(c, g, o, oc, r)`,
    values: [
      arrayParam(rows.map((r) => r.commandId)),
      table.system,
      table.schema,
      table.name,
      arrayParam(rows.map((r) => r.globalId)),
      arrayParam(rows.map((r) => r.origin)),
      arrayParam(rows.map((r) => r.outcome)),
      arrayParam(rows.map((r) => (r.result === undefined ? null : JSON.stringify(r.result)))),
    ],
  };
}

/** A unique violation on the inbox key: a command of the batch is recorded already (see pgInboxInsert). */
export function isInboxDuplicate(err: unknown, syncSchema: string): boolean {
  const e = err as { code?: unknown; schema?: unknown; table?: unknown } | null;
  return typeof e === 'object' && e !== null && e.code === '23505' && e.schema === syncSchema && e.table === INBOX_TABLE;
}

export function pgPark(syncSchema: string, table: TableConfig, commandId: string, globalId: string, command: unknown, reason: string): PgStatement {
  return {
    text: `INSERT INTO ${q(syncSchema)}.${q(PARKED_TABLE)} ("command_id", "system", "schema_name", "table_name", "global_id", "command", "reason")
  VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
  ON CONFLICT ("command_id") DO UPDATE SET "reason" = EXCLUDED."reason"`,
    values: [commandId, table.system, table.schema, table.name, globalId, JSON.stringify(command), reason],
  };
}

export function pgParked(syncSchema: string, table: TableConfig): PgStatement {
  return {
    text: `SELECT "command_id", "reason", "command"::text AS command, "parked_at" FROM ${q(syncSchema)}.${q(PARKED_TABLE)}
  WHERE "system" = $1 AND "schema_name" = $2 AND "table_name" = $3 ORDER BY "parked_at", "command_id"`,
    values: [table.system, table.schema, table.name],
  };
}

export function pgUnpark(syncSchema: string, commandIds: readonly string[]): PgStatement {
  return { text: `DELETE FROM ${q(syncSchema)}.${q(PARKED_TABLE)} WHERE "command_id" = ANY($1::text[])`, values: [commandIds] };
}
