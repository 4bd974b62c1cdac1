import { quoteIdent, type TableConfig } from '@sync/config';
import type { Row } from '../core/capture-source.interface';
import { qualified, type PgStatement, type PgTableMeta } from './postgres-writeback.sql';

const q = (name: string): string => quoteIdent('postgres', name);

/** A foreign key of another table (or this one) that references the table's primary key. */
export interface PgReferencingKey {
  /** The referencing table as `regclass` prints it: quoted and schema-qualified where needed. */
  readonly child: string;
  /** Referencing columns, in the order of `parentColumns`. */
  readonly childColumns: readonly string[];
  readonly parentColumns: readonly string[];
  /** pg_constraint.confupdtype: `c` cascades a key update to the children. */
  readonly onUpdate: string;
}

/** Foreign keys referencing table $1 exactly on the columns $2, with their columns in matching order. */
export const pgReferencingKeysQuery = `SELECT c.conrelid::regclass::text AS child, c.confupdtype AS on_update,
    array_agg(a.attname::text ORDER BY k.n) AS child_columns, array_agg(pa.attname::text ORDER BY k.n) AS parent_columns
  FROM pg_constraint c
  CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(child_att, parent_att, n)
  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.child_att
  JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.parent_att
  WHERE c.contype = 'f' AND c.confrelid = $1::regclass
  GROUP BY c.oid, c.conrelid, c.confupdtype
  HAVING array_agg(pa.attname::text ORDER BY pa.attname::text) = (SELECT array_agg(x ORDER BY x) FROM unnest($2::text[]) AS x)`;

/**
 * Unique indexes of table $1 other than those on exactly the key columns $2: a copy of a row
 * under a new key would violate them while the old row still exists.
 */
export const pgOtherUniqueIndexesQuery = `SELECT c.relname::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  WHERE i.indrelid = $1::regclass AND i.indisunique
    AND (i.indexprs IS NOT NULL OR (SELECT array_agg(a.attname::text ORDER BY a.attname::text) FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey))
      IS DISTINCT FROM (SELECT array_agg(k ORDER BY k) FROM unnest($2::text[]) AS k))`;

/** Columns an INSERT may write (generated columns are computed by the database). */
export const pgWritableColumnsQuery = `SELECT a.attname::text AS name FROM pg_attribute a
  WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum`;

function typeOf(meta: PgTableMeta, column: string): string {
  const type = meta.types.get(column);
  if (!type) throw new Error(`unknown column ${column}`);
  return type;
}

function keyWhere(table: TableConfig, meta: PgTableMeta, first: number): string {
  return table.key.map((k, i) => `${q(k)} = $${first + i}::${typeOf(meta, k)}`).join(' AND ');
}

const keyParams = (table: TableConfig, key: Row): unknown[] => table.key.map((k) => key[k]);

/** The key update in place: for tables no foreign key blocks (none, or all ON UPDATE CASCADE). */
export function pgMoveInPlace(table: TableConfig, meta: PgTableMeta, from: Row, to: Row): PgStatement {
  const set = table.key.map((k, i) => `${q(k)} = $${i + 1}::${typeOf(meta, k)}`).join(', ');
  return { text: `UPDATE ${qualified(table)} SET ${set} WHERE ${keyWhere(table, meta, table.key.length + 1)}`, values: [...keyParams(table, to), ...keyParams(table, from)] };
}

/** A copy of the row under the new key (every writable column, the key replaced). */
export function pgMoveCopy(table: TableConfig, meta: PgTableMeta, columns: readonly string[], from: Row, to: Row): PgStatement {
  const keys = new Set(table.key);
  const select = columns.map((c) => (keys.has(c) ? `$${table.key.indexOf(c) + 1}::${typeOf(meta, c)}` : q(c)));
  const overriding = meta.hasIdentity ? ' OVERRIDING SYSTEM VALUE' : '';
  return {
    text: `INSERT INTO ${qualified(table)} (${columns.map(q).join(', ')})${overriding} SELECT ${select.join(', ')} FROM ${qualified(table)} WHERE ${keyWhere(table, meta, table.key.length + 1)}`,
    values: [...keyParams(table, to), ...keyParams(table, from)],
  };
}

/** Points a referencing table's rows from the old key to the new one. */
export function pgRepoint(fk: PgReferencingKey, from: Row, to: Row): PgStatement {
  const n = fk.childColumns.length;
  const set = fk.childColumns.map((c, i) => `${q(c)} = $${i + 1}`).join(', ');
  const where = fk.childColumns.map((c, i) => `${q(c)} = $${n + i + 1}`).join(' AND ');
  return { text: `UPDATE ${fk.child} SET ${set} WHERE ${where}`, values: [...fk.parentColumns.map((c) => to[c]), ...fk.parentColumns.map((c) => from[c])] };
}

/** Whether a row holds the key (locked when it does). A key inserted concurrently fails the move with a unique violation: the batch is redone. */
export function pgRowExists(table: TableConfig, meta: PgTableMeta, key: Row): PgStatement {
  return { text: `SELECT 1 FROM ${qualified(table)} WHERE ${keyWhere(table, meta, 1)} FOR UPDATE`, values: keyParams(table, key) };
}

/** Removes the row under its old key, once nothing references it any more. */
export function pgMoveDelete(table: TableConfig, meta: PgTableMeta, from: Row): PgStatement {
  return { text: `DELETE FROM ${qualified(table)} WHERE ${keyWhere(table, meta, 1)}`, values: keyParams(table, from) };
}

/**
 * The statements that move one row to a new primary key without a foreign-key violation. When no
 * foreign key blocks it (none references the table, or all cascade updates), the key is updated
 * in place. Otherwise the row is copied under the new key, every referencing row is pointed at
 * the copy, and the old row is deleted; a unique constraint on other columns makes this fail (a
 * data error naming the constraint, dead-lettered).
 */
export function pgKeyMovePlan(table: TableConfig, meta: PgTableMeta, fks: readonly PgReferencingKey[], writable: readonly string[], from: Row, to: Row): PgStatement[] {
  if (fks.every((fk) => fk.onUpdate === 'c')) return [pgMoveInPlace(table, meta, from, to)];
  return [pgMoveCopy(table, meta, writable, from, to), ...fks.map((fk) => pgRepoint(fk, from, to)), pgMoveDelete(table, meta, from)];
}
