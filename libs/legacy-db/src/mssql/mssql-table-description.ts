import sql from 'mssql';
import type { TableDescription } from '../core/table-description';
import { valueKind } from '../core/value-normalizer';
import type { MssqlLegacyDb } from './mssql.legacy-db';

/** Reads a table's columns and unique keys from the catalog; undefined when the table does not exist. */
export async function describeMssql(db: MssqlLegacyDb, schema: string, table: string): Promise<TableDescription | undefined> {
  const pool = await db.connected();
  const columns = await pool
    .request()
    .input('schema', sql.NVarChar, schema)
    .input('table', sql.NVarChar, table)
    .query<{ name: string; type: string; is_nullable: boolean; precision: number; scale: number; db: string }>(
      `SELECT c.name, t.name AS type, c.is_nullable, c.precision, c.scale, DB_NAME() AS db FROM sys.columns c
         JOIN sys.types t ON t.user_type_id = c.user_type_id
         JOIN sys.tables tb ON tb.object_id = c.object_id
        WHERE SCHEMA_NAME(tb.schema_id) = @schema AND tb.name = @table
        ORDER BY c.column_id`,
    );
  if (columns.recordset.length === 0) return undefined;
  const keys = await pool
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
    columns: columns.recordset.map((r) => {
      const decimal = r.type === 'decimal' || r.type === 'numeric';
      const timed = ['datetime2', 'time', 'datetimeoffset'].includes(r.type);
      return {
        name: r.name,
        type: r.type,
        kind: valueKind('mssql', r.type),
        nullable: r.is_nullable,
        precision: decimal ? r.precision : null,
        scale: decimal || timed ? r.scale : null,
      };
    }),
    uniqueKeys: [...byIndex.values()],
    database: columns.recordset[0]!.db,
  };
}
