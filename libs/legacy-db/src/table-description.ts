import sql from 'mssql';
import { valueKind, type ValueKind } from './core/value-normalizer';
import type { LegacyDb } from './core/legacy-db.interface';
import { MssqlLegacyDb } from './mssql/mssql.legacy-db';
import { PostgresLegacyDb } from './postgres/postgres.legacy-db';

/** A legacy table as its database describes it (for `sync-ctl validate --db`). */
export interface TableDescription {
  /** Columns in table order, with the database's type name and how the suite represents its values. */
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string; readonly kind: ValueKind }>;
  /** Column lists of the primary key and of every unique index or constraint, in key order. */
  readonly uniqueKeys: ReadonlyArray<{ readonly primary: boolean; readonly columns: readonly string[] }>;
}

/** Reads a table's columns and unique keys from the catalog; undefined when the table does not exist. */
export async function describeTable(db: LegacyDb, schema: string, table: string): Promise<TableDescription | undefined> {
  if (db instanceof PostgresLegacyDb) return describePostgres(db, schema, table);
  if (db instanceof MssqlLegacyDb) return describeMssql(db, schema, table);
  throw new Error(`describeTable: unsupported legacy database ${db.dialect}`);
}

async function describePostgres(db: PostgresLegacyDb, schema: string, table: string): Promise<TableDescription | undefined> {
  const columns = await db.pool.query<{ column_name: string; udt_name: string }>(
    'SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
    [schema, table],
  );
  if (columns.rows.length === 0) return undefined;
  const keys = await db.pool.query<{ primary: boolean; columns: string[] }>(
    `SELECT i.indisprimary AS primary, array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum)) AS columns
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE n.nspname = $1 AND c.relname = $2 AND i.indisunique AND i.indpred IS NULL
      GROUP BY i.indexrelid, i.indisprimary`,
    [schema, table],
  );
  return {
    columns: columns.rows.map((r) => ({ name: r.column_name, type: r.udt_name, kind: valueKind('postgres', r.udt_name) })),
    uniqueKeys: keys.rows.map((r) => ({ primary: r.primary, columns: r.columns })),
  };
}

async function describeMssql(db: MssqlLegacyDb, schema: string, table: string): Promise<TableDescription | undefined> {
  const columns = await db.pool
    .request()
    .input('schema', sql.NVarChar, schema)
    .input('table', sql.NVarChar, table)
    .query<{ name: string; type: string }>(
      `SELECT c.name, t.name AS type FROM sys.columns c
         JOIN sys.types t ON t.user_type_id = c.user_type_id
         JOIN sys.tables tb ON tb.object_id = c.object_id
        WHERE SCHEMA_NAME(tb.schema_id) = @schema AND tb.name = @table
        ORDER BY c.column_id`,
    );
  if (columns.recordset.length === 0) return undefined;
  const keys = await db.pool
    .request()
    .input('schema', sql.NVarChar, schema)
    .input('table', sql.NVarChar, table)
    .query<{ is_primary_key: boolean; index_id: number; name: string }>(
      `SELECT i.is_primary_key, i.index_id, c.name FROM sys.indexes i
         JOIN sys.tables tb ON tb.object_id = i.object_id
         JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.is_included_column = 0
         JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
        WHERE SCHEMA_NAME(tb.schema_id) = @schema AND tb.name = @table AND i.is_unique = 1 AND i.has_filter = 0
        ORDER BY i.index_id, ic.key_ordinal`,
    );
  const byIndex = new Map<number, { primary: boolean; columns: string[] }>();
  for (const r of keys.recordset) {
    const entry = byIndex.get(r.index_id) ?? { primary: r.is_primary_key, columns: [] };
    entry.columns.push(r.name);
    byIndex.set(r.index_id, entry);
  }
  return {
    columns: columns.recordset.map((r) => ({ name: r.name, type: r.type, kind: valueKind('mssql', r.type) })),
    uniqueKeys: [...byIndex.values()],
  };
}
