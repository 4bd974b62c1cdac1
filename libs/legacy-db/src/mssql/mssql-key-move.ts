import type { TableConfig } from '@sync/config';
import type { Row } from '../core/capture-source.interface';
import { qi } from './mssql-statement';
import { tableName, type TsqlStatement } from './mssql-writeback.sql';

/** A foreign key referencing the table's primary key, read from sys.foreign_keys. */
export interface TsqlReferencingKey {
  /** `[schema].[table]` of the referencing table (QUOTENAME'd by SQL Server). */
  readonly child: string;
  readonly childColumns: readonly string[];
  readonly parentColumns: readonly string[];
  /** sys.foreign_keys.update_referential_action: 1 cascades a key update to the children. */
  readonly onUpdate: number;
}

/** One row per column of each foreign key referencing @table, in column order. */
export function tsqlReferencingKeys(table: TableConfig): TsqlStatement {
  return {
    text: `SELECT fk.object_id AS fk_id, QUOTENAME(OBJECT_SCHEMA_NAME(fk.parent_object_id)) + N'.' + QUOTENAME(OBJECT_NAME(fk.parent_object_id)) AS child,
  fk.update_referential_action AS on_update, COL_NAME(fkc.parent_object_id, fkc.parent_column_id) AS child_column,
  COL_NAME(fkc.referenced_object_id, fkc.referenced_column_id) AS parent_column
FROM sys.foreign_keys fk JOIN sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id
WHERE fk.referenced_object_id = OBJECT_ID(@table)
ORDER BY fk.object_id, fkc.constraint_column_id`,
    params: [{ name: 'table', value: tableName(table) }],
  };
}

/** Groups the rows of tsqlReferencingKeys into foreign keys on exactly the table's key columns. */
export function referencingKeys(
  table: TableConfig,
  rows: ReadonlyArray<{ fk_id: number; child: string; on_update: number; child_column: string; parent_column: string }>,
): TsqlReferencingKey[] {
  const byId = new Map<number, { child: string; onUpdate: number; childColumns: string[]; parentColumns: string[] }>();
  for (const r of rows) {
    const fk = byId.get(r.fk_id) ?? { child: r.child, onUpdate: r.on_update, childColumns: [], parentColumns: [] };
    fk.childColumns.push(r.child_column);
    fk.parentColumns.push(r.parent_column);
    byId.set(r.fk_id, fk);
  }
  const key = [...table.key].sort().join('\u0000');
  return [...byId.values()].filter((fk) => [...fk.parentColumns].sort().join('\u0000') === key);
}

/** Columns an INSERT may write: not computed, not rowversion, not the identity. */
export function tsqlWritableColumns(table: TableConfig): TsqlStatement {
  return {
    text: 'SELECT name FROM sys.columns WHERE object_id = OBJECT_ID(@table) AND is_computed = 0 AND is_identity = 0 AND system_type_id <> 189 ORDER BY column_id',
    params: [{ name: 'table', value: tableName(table) }],
  };
}

class Params {
  readonly params: Array<{ name: string; value: unknown }> = [];
  add(value: unknown): string {
    this.params.push({ name: `m${this.params.length}`, value: value ?? null });
    return `@m${this.params.length - 1}`;
  }
}

function keyWhere(p: Params, columns: readonly string[], key: Row, keyColumns: readonly string[] = columns): string {
  return columns.map((c, i) => `${qi(c)} = ${p.add(key[keyColumns[i]!])}`).join(' AND ');
}

/** Whether a row holds the key, locked until commit when it does. */
export function tsqlRowExists(table: TableConfig, key: Row): TsqlStatement {
  const p = new Params();
  return { text: `SELECT 1 AS found FROM ${tableName(table)} WITH (UPDLOCK, HOLDLOCK) WHERE ${keyWhere(p, table.key, key)}`, params: p.params };
}

/**
 * The statements that move one row to a new primary key without a foreign-key violation, as on
 * PostgreSQL (docs/primary-key-updates.md): in place when no foreign key blocks it, else copy,
 * re-point every referencing row, delete the old row.
 */
export function tsqlKeyMovePlan(table: TableConfig, fks: readonly TsqlReferencingKey[], writable: readonly string[], from: Row, to: Row): TsqlStatement[] {
  if (fks.every((fk) => fk.onUpdate === 1)) {
    const p = new Params();
    const set = table.key.map((k) => `${qi(k)} = ${p.add(to[k])}`).join(', ');
    return [{ text: `UPDATE ${tableName(table)} SET ${set} WHERE ${keyWhere(p, table.key, from)}`, params: p.params }];
  }
  const copy = new Params();
  const keys = new Set(table.key);
  const select = writable.map((c) => (keys.has(c) ? copy.add(to[c]) : qi(c))).join(', ');
  const statements: TsqlStatement[] = [
    { text: `INSERT INTO ${tableName(table)} (${writable.map(qi).join(', ')}) SELECT ${select} FROM ${tableName(table)} WHERE ${keyWhere(copy, table.key, from)}`, params: copy.params },
  ];
  for (const fk of fks) {
    const p = new Params();
    const set = fk.childColumns.map((c, i) => `${qi(c)} = ${p.add(to[fk.parentColumns[i]!])}`).join(', ');
    statements.push({ text: `UPDATE ${fk.child} SET ${set} WHERE ${keyWhere(p, fk.childColumns, from, fk.parentColumns)}`, params: p.params });
  }
  const del = new Params();
  statements.push({ text: `DELETE FROM ${tableName(table)} WHERE ${keyWhere(del, table.key, from)}`, params: del.params });
  return statements;
}
