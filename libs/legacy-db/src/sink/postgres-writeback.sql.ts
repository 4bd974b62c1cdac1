import { quoteIdent, type TableConfig } from '@sync/config';
import type { Row } from '../capture/capture-source.interface';
import { INBOX_TABLE, PARKED_TABLE } from './inbox.ddl';

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

function typeOf(meta: PgTableMeta, column: string): string {
  const type = meta.types.get(column);
  if (!type) throw new Error(`unknown column ${column}`);
  return type;
}

/** json/jsonb values are sent as JSON text: pg would turn a JS array into a PostgreSQL array literal. */
function param(meta: PgTableMeta, column: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const type = typeOf(meta, column);
  if ((type === 'json' || type === 'jsonb') && typeof value !== 'string') return JSON.stringify(value);
  if (typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) return JSON.stringify(value);
  return value;
}

/**
 * Rows travel as one array parameter per column (`unnest($1::int[], $2::text[], ...)`): a constant
 * number of parameters whatever the batch size, so statements stay cheap to parse and plan.
 * Array-typed columns cannot travel this way (unnest would flatten them).
 */
function columnArrays(meta: PgTableMeta, columns: readonly string[], rows: readonly Row[]): { values: unknown[]; unnest: string } {
  const values = columns.map((c) => rows.map((r) => param(meta, c, r[c])));
  const casts = columns.map((c, i) => {
    const type = typeOf(meta, c);
    if (type.endsWith(']')) throw new Error(`array column ${c} (${type}) is not supported by the write-back`);
    return `$${i + 1}::${type}[]`;
  });
  return { values, unnest: `unnest(${casts.join(', ')})` };
}

function merged(table: TableConfig, rows: readonly UpsertRow[]): Row[] {
  return rows.map((r) => ({ ...r.columns, ...Object.fromEntries(table.key.map((k) => [k, r.key[k]])) }));
}

/** Locks the existing rows among `keys` (so a concurrent legacy edit either committed before the conflict check or waits) and returns their keys as text. */
export function pgLockRows(table: TableConfig, meta: PgTableMeta, keys: readonly Row[]): PgStatement {
  const a = columnArrays(meta, table.key, keys);
  const select = table.key.map((k, i) => `t.${q(k)}::text AS k${i}`).join(', ');
  return {
    text: `SELECT ${select} FROM ${qualified(table)} AS t WHERE (${table.key.map((k) => `t.${q(k)}`).join(', ')}) IN (SELECT * FROM ${a.unnest}) FOR UPDATE OF t`,
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
  const values: unknown[] = [probes.map((p) => p.index), probes.map((p) => p.basedOn), ...table.key.map((k) => probes.map((p) => String(p.key[k])))];
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

export function pgDelete(table: TableConfig, meta: PgTableMeta, keys: readonly Row[]): PgStatement {
  const a = columnArrays(meta, table.key, keys);
  return { text: `DELETE FROM ${qualified(table)} WHERE (${table.key.map(q).join(', ')}) IN (SELECT * FROM ${a.unnest})`, values: a.values };
}

export interface UpsertRow {
  readonly key: Row;
  readonly columns: Row;
}

/** Partial update of existing rows: only `columns` are set, so NOT NULL columns the command omits keep their values. */
export function pgUpdate(table: TableConfig, meta: PgTableMeta, columns: readonly string[], rows: readonly UpsertRow[]): PgStatement {
  const all = [...table.key, ...columns];
  const a = columnArrays(meta, all, merged(table, rows));
  return {
    text: `UPDATE ${qualified(table)} AS t SET ${columns.map((c) => `${q(c)} = v.${q(c)}`).join(', ')}
  FROM ${a.unnest} AS v(${all.map(q).join(', ')})
  WHERE ${table.key.map((k) => `t.${q(k)} = v.${q(k)}`).join(' AND ')}`,
    values: a.values,
  };
}

/** Insert of rows that did not exist; ON CONFLICT covers a legacy insert of the same key racing with us. */
export function pgInsert(table: TableConfig, meta: PgTableMeta, columns: readonly string[], rows: readonly UpsertRow[]): PgStatement {
  const all = [...table.key, ...columns];
  const a = columnArrays(meta, all, merged(table, rows));
  const onConflict =
    columns.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${columns.map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ')}`;
  return {
    text: `INSERT INTO ${qualified(table)} (${all.map(q).join(', ')})${meta.hasIdentity ? ' OVERRIDING SYSTEM VALUE' : ''}
  SELECT * FROM ${a.unnest}
  ON CONFLICT (${table.key.map(q).join(', ')}) ${onConflict}`,
    values: a.values,
  };
}

/** Draws `count` values from the key's sequence, so each generated-key insert knows its key before it is written. */
export function pgAllocateKeys(sequence: string, count: number): PgStatement {
  return { text: 'SELECT nextval($1::regclass)::text AS k FROM generate_series(1, $2::int)', values: [sequence, count] };
}

export function pgSetOrigin(origin: string): PgStatement {
  return { text: "SELECT set_config('sync.origin', $1, true)", values: [origin] };
}

export function pgInboxLookup(syncSchema: string, commandIds: readonly string[]): PgStatement {
  return {
    text: `SELECT "command_id", "outcome", "result"::text AS result FROM ${q(syncSchema)}.${q(INBOX_TABLE)} WHERE "command_id" = ANY($1::text[])`,
    values: [commandIds],
  };
}

export interface InboxRow {
  readonly commandId: string;
  readonly globalId: string;
  readonly origin: string;
  readonly outcome: 'applied' | 'skipped-conflict';
  readonly result: unknown;
}

export function pgInboxInsert(syncSchema: string, table: TableConfig, rows: readonly InboxRow[]): PgStatement {
  return {
    text: `INSERT INTO ${q(syncSchema)}.${q(INBOX_TABLE)} ("command_id", "system", "schema_name", "table_name", "global_id", "origin", "outcome", "result")
  SELECT u.c, $2, $3, $4, u.g, u.o, u.oc, u.r FROM unnest($1::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[]) AS u(c, g, o, oc, r)`,
    values: [
      rows.map((r) => r.commandId),
      table.system,
      table.schema,
      table.name,
      rows.map((r) => r.globalId),
      rows.map((r) => r.origin),
      rows.map((r) => r.outcome),
      rows.map((r) => (r.result === undefined ? null : JSON.stringify(r.result))),
    ],
  };
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
