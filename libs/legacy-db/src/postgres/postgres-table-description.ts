import type { TableDescription } from '../core/table-description';
import { valueKind } from '../core/value-normalizer';
import type { PostgresLegacyDb } from './postgres.legacy-db';

/** Reads a table's columns and unique keys from the catalog; undefined when the table does not exist. */
export async function describePostgres(db: PostgresLegacyDb, schema: string, table: string): Promise<TableDescription | undefined> {
  const columns = await db.pool.query<{ column_name: string; udt_name: string; is_nullable: string; numeric_precision: number | null; numeric_scale: number | null; datetime_precision: number | null; db: string }>(
    `SELECT column_name, udt_name, is_nullable, numeric_precision, numeric_scale, datetime_precision, current_database() AS db
       FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
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
    columns: columns.rows.map((r) => {
      const decimal = r.udt_name === 'numeric';
      return {
        name: r.column_name,
        type: r.udt_name,
        kind: valueKind('postgres', r.udt_name),
        nullable: r.is_nullable === 'YES',
        precision: decimal ? r.numeric_precision : null,
        scale: decimal ? r.numeric_scale : r.datetime_precision,
      };
    }),
    uniqueKeys: keys.rows.map((r) => ({ primary: r.primary, columns: r.columns })),
    database: columns.rows[0]!.db,
  };
}

