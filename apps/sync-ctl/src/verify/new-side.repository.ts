import { quoteIdent } from '@sync/config';
import { DataSource } from 'typeorm';
import type { VerifyEntity } from './verify-config';

const q = (name: string): string => quoteIdent('postgres', name);

/** A new-side row: its global id and the compared columns as the driver returned them. */
export interface NewSideRow {
  readonly id: string;
  readonly columns: Readonly<Record<string, unknown>>;
}

/**
 * The new service's own PostgreSQL tables, read-only: the entity's main table joined with its
 * other tables on the global id. Not a legacy table, so TypeORM's raw queries rather than the
 * legacy-db lib.
 */
export class NewSideRepository {
  private readonly ds: DataSource;

  constructor(url: string) {
    this.ds = new DataSource({ type: 'postgres', url, extra: { max: 2, connectionTimeoutMillis: 5000 } });
  }

  async connect(): Promise<void> {
    await this.ds.initialize();
  }

  private readonly idTypes = new Map<string, string>();

  /** Each table's id column type (format_type), read once: joins and id lookups then compare in the column's own type and use its index. */
  private async idTypesOf(entity: VerifyEntity): Promise<Map<string, string>> {
    const missing = entity.tables.filter((t) => !this.idTypes.has(t.table));
    if (missing.length > 0) {
      const rows = (await this.ds.query(
        `SELECT c.relname AS "table", format_type(a.atttypid, a.atttypmod) AS type
           FROM unnest($1::text[], $2::text[]) AS w(tbl, col)
           JOIN pg_class c ON c.oid = to_regclass(quote_ident(w.tbl))
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = w.col AND NOT a.attisdropped`,
        [missing.map((t) => t.table), missing.map((t) => t.idColumn)],
      )) as Array<{ table: string; type: string }>;
      for (const r of rows) this.idTypes.set(r.table, r.type);
    }
    return this.idTypes;
  }

  private async select(entity: VerifyEntity): Promise<{ sql: string; idType: string }> {
    const types = await this.idTypesOf(entity);
    const alias = new Map(entity.tables.map((t, i) => [t.table, `t${i}`]));
    const main = entity.tables[0]!;
    const mainType = types.get(main.table) ?? 'text';
    const columns = entity.fields.map((f) => `${alias.get(f.table)}.${q(f.column)} AS ${q(f.name)}`);
    const joins = entity.tables.slice(1).map((t) => {
      const a = alias.get(t.table)!;
      const same = types.get(t.table) === mainType;
      return `LEFT JOIN ${q(t.table)} ${a} ON ${same ? `${a}.${q(t.idColumn)} = t0.${q(main.idColumn)}` : `${a}.${q(t.idColumn)}::text = t0.${q(main.idColumn)}::text`}`;
    });
    return { sql: `SELECT t0.${q(main.idColumn)}::text AS "__id", ${columns.join(', ')} FROM ${q(main.table)} t0 ${joins.join(' ')}`, idType: mainType };
  }

  /** Global ids of the main table in id order after `afterId` (keyset pagination), ids only. */
  async ids(entity: VerifyEntity, afterId: string | null, limit: number): Promise<string[]> {
    // Byte order ("C"): the same on every server, whatever the database's collation.
    const idColumn = `(${q(entity.tables[0]!.idColumn)}::text COLLATE "C")`;
    const rows = (await this.ds.query(
      `SELECT ${idColumn} AS id FROM ${q(entity.tables[0]!.table)} WHERE ($1::text IS NULL OR ${idColumn} > $1::text) ORDER BY ${idColumn} LIMIT $2`,
      [afterId, limit],
    )) as Array<{ id: string }>;
    return rows.map((r) => r.id);
  }

  /** The rows of these global ids (absent ones are missing). */
  async byIds(entity: VerifyEntity, ids: readonly string[]): Promise<NewSideRow[]> {
    if (ids.length === 0) return [];
    const { sql, idType } = await this.select(entity);
    // Compared in the id column's own type (uuid, text ...), so its primary-key index serves the lookup.
    const rows = (await this.ds.query(`${sql} WHERE t0.${q(entity.tables[0]!.idColumn)} = ANY($1::text[]::${idType}[])`, [[...ids]])) as Array<Record<string, unknown>>;
    return rows.map(toRow);
  }

  async count(entity: VerifyEntity): Promise<number> {
    const rows = (await this.ds.query(`SELECT count(*)::int AS n FROM ${q(entity.tables[0]!.table)}`)) as Array<{ n: number }>;
    return rows[0]!.n;
  }

  async close(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

function toRow(r: Record<string, unknown>): NewSideRow {
  const { __id, ...columns } = r;
  return { id: String(__id), columns };
}
