import type { TableConfig } from '@sync/config';
import type { Row } from '../core/capture-source.interface';
import { nstr, qi } from './mssql-statement';
import { INBOX_TABLE, PARKED_TABLE } from '../core/inbox-names';
import type { MssqlKeyedWrite } from './mssql-identity';
import type { InboxRow, UpsertRow } from '../core/writeback-plan';

/** A T-SQL batch with named parameters; the driver infers each parameter's type from its JS value. */
export interface TsqlStatement {
  readonly text: string;
  readonly params: ReadonlyArray<{ readonly name: string; readonly value: unknown }>;
}

/** SQL Server allows 2100 parameters per request and 1000 rows per VALUES constructor. */
export const MSSQL_MAX_PARAMS = 2000;
export const MSSQL_MAX_ROWS = 1000;

export function tableName(table: TableConfig): string {
  return `${qi(table.schema)}.${qi(table.name)}`;
}

function sqlValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) return JSON.stringify(value);
  return value;
}

class Params {
  readonly params: Array<{ name: string; value: unknown }> = [];
  add(value: unknown): string {
    const name = `p${this.params.length}`;
    this.params.push({ name, value: sqlValue(value) });
    return `@${name}`;
  }
}

function values(p: Params, rows: readonly Row[], columns: readonly string[]): string {
  return rows.map((r) => `(${columns.map((c) => p.add(r[c])).join(', ')})`).join(', ');
}

function keyJoin(table: TableConfig, left: string, right: string): string {
  return table.key.map((k) => `${left}.${qi(k)} = ${right}.${qi(k)}`).join(' AND ');
}

/** Sets the origin marker the capture triggers read (SESSION_CONTEXT); scoped to this connection. */
export function tsqlSetOrigin(origin: string): TsqlStatement {
  return { text: "EXEC sp_set_session_context @key = N'sync_origin', @value = @origin", params: [{ name: 'origin', value: origin }] };
}

export function tsqlInboxLookup(syncSchema: string, commandIds: readonly string[]): TsqlStatement {
  const p = new Params();
  const list = commandIds.map((id) => p.add(id)).join(', ');
  return { text: `SELECT [command_id], [outcome], [result] FROM ${qi(syncSchema)}.${qi(INBOX_TABLE)} WHERE [command_id] IN (${list})`, params: p.params };
}

/** Locks the existing rows among `keys` until commit and returns their keys as text. */
export function tsqlLockRows(table: TableConfig, keys: readonly Row[]): TsqlStatement {
  const p = new Params();
  const select = table.key.map((k, i) => `CAST(t.${qi(k)} AS nvarchar(400)) AS [k${i}]`).join(', ');
  return {
    text: `SELECT ${select} FROM ${tableName(table)} AS t WITH (UPDLOCK, HOLDLOCK)
  INNER JOIN (VALUES ${values(p, keys, table.key)}) AS v(${table.key.map(qi).join(', ')}) ON ${keyJoin(table, 't', 'v')}`,
    params: p.params,
  };
}

/** The latest non-suite change after `basedOn` per probed row, from the trigger changelog (row images are JSON text). */
export function tsqlConflicts(table: TableConfig, changelog: string, probes: ReadonlyArray<{ index: number; basedOn: string; key: Row }>): TsqlStatement {
  const p = new Params();
  const rows = probes
    .map((probe) => `(${[p.add(probe.index), `CAST(${p.add(probe.basedOn)} AS bigint)`, ...table.key.map((k) => `CAST(${p.add(String(probe.key[k]))} AS nvarchar(400))`)].join(', ')})`)
    .join(', ');
  const alias = ['[i]', '[based_on]', ...table.key.map((_, i) => `[k${i}]`)].join(', ');
  const match = table.key.map((k, i) => `JSON_VALUE(COALESCE(c.[after], c.[before]), ${nstr(`$."${k}"`)}) = v.[k${i}]`).join(' AND ');
  return {
    text: `SELECT v.[i], CAST(l.[id] AS nvarchar(30)) AS [position], l.[op], l.[changed_at], l.[after]
  FROM (VALUES ${rows}) AS v(${alias})
  CROSS APPLY (SELECT TOP (1) c.[id], c.[op], c.[changed_at], c.[after] FROM ${changelog} AS c
     WHERE c.[id] > v.[based_on] AND c.[origin] IS NULL AND ${match}
     ORDER BY c.[id] DESC) AS l`,
    params: p.params,
  };
}

export function tsqlDelete(table: TableConfig, keys: readonly Row[]): TsqlStatement {
  const p = new Params();
  return {
    text: `DELETE t FROM ${tableName(table)} AS t
  INNER JOIN (VALUES ${values(p, keys, table.key)}) AS v(${table.key.map(qi).join(', ')}) ON ${keyJoin(table, 't', 'v')}`,
    params: p.params,
  };
}

/**
 * Upsert of rows with known keys: matched rows get only the given columns. HOLDLOCK keeps the
 * key range locked between the match and the insert (MERGE alone is not atomic there).
 * `identityInsert` (the table's `identityInsert: true`) wraps it in SET IDENTITY_INSERT for
 * explicit values of an identity key. The setting belongs to the session and outlives a failed
 * statement, and a session may have it on for one table only: the CATCH turns it off again before
 * re-raising the error, so the pooled connection does not keep it.
 */
export function tsqlMerge(table: TableConfig, columns: readonly string[], rows: readonly UpsertRow[], identityInsert = false): TsqlStatement {
  const p = new Params();
  const all = [...table.key, ...columns];
  const tuples = rows.map((r) => `(${all.map((c) => p.add(table.key.includes(c) ? r.key[c] : r.columns[c])).join(', ')})`).join(', ');
  const matched = columns.length > 0 ? `\nWHEN MATCHED THEN UPDATE SET ${columns.map((c) => `t.${qi(c)} = v.${qi(c)}`).join(', ')}` : '';
  const merge = `MERGE INTO ${tableName(table)} WITH (HOLDLOCK) AS t
USING (VALUES ${tuples}) AS v(${all.map(qi).join(', ')})
ON ${keyJoin(table, 't', 'v')}${matched}
WHEN NOT MATCHED BY TARGET THEN INSERT (${all.map(qi).join(', ')}) VALUES (${all.map((c) => `v.${qi(c)}`).join(', ')});`;
  if (!identityInsert) return { text: merge, params: p.params };
  const on = `SET IDENTITY_INSERT ${tableName(table)} ON;`;
  const off = `SET IDENTITY_INSERT ${tableName(table)} OFF;`;
  return { text: `${on}\nBEGIN TRY\n${merge}\nEND TRY\nBEGIN CATCH\n${off}\nTHROW;\nEND CATCH;\n${off}`, params: p.params };
}

/**
 * Inserts rows whose key the database generates and returns each row's key with its input
 * position: MERGE (unlike INSERT) may OUTPUT source columns. OUTPUT goes INTO a table variable
 * because the capture trigger on the table forbids a bare OUTPUT clause (error 334).
 */
export function tsqlInsertGenerated(table: TableConfig, columns: readonly string[], rows: readonly Row[]): TsqlStatement {
  const p = new Params();
  const key = qi(table.key[0]!);
  const tuples = rows.map((r, i) => `(${[p.add(i), ...columns.map((c) => p.add(r[c]))].join(', ')})`).join(', ');
  const insert =
    columns.length > 0
      ? `INSERT (${columns.map(qi).join(', ')}) VALUES (${columns.map((c) => `v.${qi(c)}`).join(', ')})`
      : 'INSERT DEFAULT VALUES';
  return {
    text: `DECLARE @generated TABLE ([ord] int NOT NULL, [k] nvarchar(400) NOT NULL);
MERGE INTO ${tableName(table)} AS t
USING (VALUES ${tuples}) AS v([sync_ord]${columns.map((c) => `, ${qi(c)}`).join('')})
ON 1 = 0
WHEN NOT MATCHED THEN ${insert}
OUTPUT v.[sync_ord], CAST(inserted.${key} AS nvarchar(400)) INTO @generated;
SELECT [ord], [k] FROM @generated ORDER BY [ord];`,
    params: p.params,
  };
}

export function tsqlInboxInsert(syncSchema: string, table: TableConfig, rows: readonly InboxRow[]): TsqlStatement {
  const p = new Params();
  const sys = p.add(table.system);
  const schema = p.add(table.schema);
  const name = p.add(table.name);
  const tuples = rows
    .map((r) => `(${[p.add(r.commandId), sys, schema, name, p.add(r.globalId), p.add(r.origin), p.add(r.outcome), p.add(r.result === undefined ? null : JSON.stringify(r.result))].join(', ')})`)
    .join(', ');
  return {
    text: `INSERT INTO ${qi(syncSchema)}.${qi(INBOX_TABLE)} ([command_id], [system], [schema_name], [table_name], [global_id], [origin], [outcome], [result]) VALUES ${tuples}`,
    params: p.params,
  };
}

export function tsqlPark(syncSchema: string, table: TableConfig, commandId: string, globalId: string, command: unknown, reason: string): TsqlStatement {
  const p = new Params();
  const [c, s, sc, t, g, cmd, r] = [commandId, table.system, table.schema, table.name, globalId, JSON.stringify(command), reason.slice(0, 2000)].map((v) => p.add(v));
  return {
    text: `MERGE INTO ${qi(syncSchema)}.${qi(PARKED_TABLE)} WITH (HOLDLOCK) AS t
USING (VALUES (${c}, ${s}, ${sc}, ${t}, ${g}, ${cmd}, ${r})) AS v([command_id], [system], [schema_name], [table_name], [global_id], [command], [reason])
ON t.[command_id] = v.[command_id]
WHEN MATCHED THEN UPDATE SET t.[reason] = v.[reason]
WHEN NOT MATCHED THEN INSERT ([command_id], [system], [schema_name], [table_name], [global_id], [command], [reason]) VALUES (v.[command_id], v.[system], v.[schema_name], v.[table_name], v.[global_id], v.[command], v.[reason]);`,
    params: p.params,
  };
}

export function tsqlParked(syncSchema: string, table: TableConfig): TsqlStatement {
  const p = new Params();
  return {
    text: `SELECT [command_id], [reason], [command], [parked_at] FROM ${qi(syncSchema)}.${qi(PARKED_TABLE)}
  WHERE [system] = ${p.add(table.system)} AND [schema_name] = ${p.add(table.schema)} AND [table_name] = ${p.add(table.name)} ORDER BY [parked_at], [command_id]`,
    params: p.params,
  };
}

/** Column names of a legacy table and whether it has an identity column. */
export function tsqlCatalog(table: TableConfig): TsqlStatement {
  return {
    text: `SELECT c.[name], c.[is_identity] FROM sys.columns AS c WHERE c.[object_id] = OBJECT_ID(@table)`,
    params: [{ name: 'table', value: tableName(table) }],
  };
}

/** Update of existing rows only: for identity-keyed tables whose keys the database generates (a MERGE insert branch could not name the key). */
export function tsqlUpdate(table: TableConfig, columns: readonly string[], rows: readonly UpsertRow[]): TsqlStatement {
  const p = new Params();
  const all = [...table.key, ...columns];
  const tuples = rows.map((r) => `(${all.map((c) => p.add(table.key.includes(c) ? r.key[c] : r.columns[c])).join(', ')})`).join(', ');
  return {
    text: `UPDATE t SET ${columns.map((c) => `t.${qi(c)} = v.${qi(c)}`).join(', ')} FROM ${tableName(table)} AS t
  INNER JOIN (VALUES ${tuples}) AS v(${all.map(qi).join(', ')}) ON ${keyJoin(table, 't', 'v')}`,
    params: p.params,
  };
}

export function tsqlUnpark(syncSchema: string, commandIds: readonly string[]): TsqlStatement {
  const p = new Params();
  const ids = commandIds.map((id) => p.add(id)).join(', ');
  return { text: `DELETE FROM ${qi(syncSchema)}.${qi(PARKED_TABLE)} WHERE [command_id] IN (${ids})`, params: p.params };
}

/**
 * Keyed upserts of one column set as the table's write mode says (mssqlKeyedWrite); undefined when
 * there is nothing to write (a key-only upsert of rows that exist).
 */
export function tsqlKeyedUpsert(table: TableConfig, mode: MssqlKeyedWrite, columns: readonly string[], rows: readonly UpsertRow[]): TsqlStatement | undefined {
  switch (mode) {
    case 'merge':
      return tsqlMerge(table, columns, rows);
    case 'identity-insert':
      return tsqlMerge(table, columns, rows, true);
    case 'update-existing':
      return columns.length > 0 ? tsqlUpdate(table, columns, rows) : undefined;
  }
}
