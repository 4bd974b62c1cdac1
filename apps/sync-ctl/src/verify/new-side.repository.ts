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

  private select(entity: VerifyEntity): string {
    const alias = new Map(entity.tables.map((t, i) => [t.table, `t${i}`]));
    const main = entity.tables[0]!;
    const columns = entity.fields.map((f) => `${alias.get(f.table)}.${q(f.column)} AS ${q(f.name)}`);
    const joins = entity.tables.slice(1).map((t) => `LEFT JOIN ${q(t.table)} ${alias.get(t.table)} ON ${alias.get(t.table)}.${q(t.idColumn)}::text = t0.${q(main.idColumn)}::text`);
    return `SELECT t0.${q(main.idColumn)}::text AS "__id", ${columns.join(', ')} FROM ${q(main.table)} t0 ${joins.join(' ')}`;
  }

  /** Rows in global-id order after `afterId` (keyset pagination). */
  async page(entity: VerifyEntity, afterId: string | null, limit: number): Promise<NewSideRow[]> {
    // Byte order ("C"): the same on every server, whatever the database's collation.
    const idColumn = `(t0.${q(entity.tables[0]!.idColumn)}::text COLLATE "C")`;
    const rows = (await this.ds.query(
      `${this.select(entity)} WHERE ($1::text IS NULL OR ${idColumn} > $1::text) ORDER BY ${idColumn} LIMIT $2`,
      [afterId, limit],
    )) as Array<Record<string, unknown>>;
    return rows.map(toRow);
  }

  /** The rows of these global ids (absent ones are missing). */
  async byIds(entity: VerifyEntity, ids: readonly string[]): Promise<NewSideRow[]> {
    if (ids.length === 0) return [];
    const rows = (await this.ds.query(`${this.select(entity)} WHERE t0.${q(entity.tables[0]!.idColumn)}::text = ANY($1::text[])`, [[...ids]])) as Array<Record<string, unknown>>;
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
