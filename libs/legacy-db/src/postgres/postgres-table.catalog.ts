import { DataError } from '@sync/errors';
import type { Pool } from 'pg';
import { quoteIdent, type TableConfig } from '@sync/config';
import type { Row, SchemaProblem } from '../core/capture-source.interface';
import { missingColumnsMessage, requiredColumns } from '../core/required-columns';
import { normaliseRow, parseExactJson, valueKind, type ValueKind } from '../core/value-normalizer';
import { columnCountOf, snapshotChunkQuery, type PostgresColumn } from './postgres-snapshot.query';

/** Every type parser off: values arrive as the server's text (the snapshot decodes them itself). */
const RAW_TEXT = { getTypeParser: () => (text: string): string => text };

const q = (name: string): string => quoteIdent('postgres', name);

/** Column types of one PostgreSQL table (re-read when a new column shows up), snapshots, schema checks. */
export class PostgresTableCatalog {
  private kinds: Map<string, ValueKind> | undefined;
  private columns: PostgresColumn[] = [];
  readonly qualifiedName: string;

  constructor(private readonly pool: Pool, readonly table: TableConfig) {
    this.qualifiedName = `${q(table.schema)}.${q(table.name)}`;
  }

  async columnKinds(refresh = false): Promise<Map<string, ValueKind>> {
    if (this.kinds && !refresh) return this.kinds;
    const res = await this.pool.query<{ column_name: string; udt_name: string }>(
      'SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      [this.table.schema, this.table.name],
    );
    this.columns = res.rows.map((r) => ({ name: r.column_name, udtName: r.udt_name }));
    this.kinds = new Map(res.rows.map((r) => [r.column_name, valueKind('postgres', r.udt_name)]));
    return this.kinds;
  }

  /** Parses a jsonb row image (text) exactly and normalises its values by column type. */
  async rowFromJson(text: string | null): Promise<Row | null> {
    if (text === null) return null;
    const parsed = parseExactJson(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DataError('row image is not a JSON object');
    return this.normalise(parsed as Row);
  }

  /** Normalises a row parsed with parseExactJson by column type. */
  async normalise(raw: Row): Promise<Row> {
    let kinds = await this.columnKinds();
    // A column added to the table since the types were read: read them again, no restart needed.
    if (Object.keys(raw).some((c) => !kinds.has(c))) kinds = await this.columnKinds(true);
    return normaliseRow(raw, kinds, 'postgres');
  }

  async checkSchema(): Promise<SchemaProblem | undefined> {
    const kinds = await this.columnKinds(true);
    if (kinds.size === 0) return { message: `${this.table.system}.${this.table.schema}.${this.table.name}: table not found` };
    const missing = requiredColumns(this.table).filter((c) => !kinds.has(c));
    return missing.length > 0 ? { message: missingColumnsMessage(this.table, missing) } : undefined;
  }

  /**
   * Keyset pagination in key order: rows whose key is greater than `afterKey`, the same rows the
   * row image (`currentRow`) gives, read column by column as text (postgres-snapshot.query.ts).
   * A column added or dropped since the columns were read: read them again and the chunk with them.
   */
  async snapshotChunk(afterKey: Row | null, limit: number): Promise<Row[]> {
    await this.columnKinds();
    for (let attempt = 0; ; attempt++) {
      const query = snapshotChunkQuery(this.table, this.qualifiedName, this.columns, afterKey, limit);
      let cells: Array<Array<string | null>>;
      try {
        cells = (await this.pool.query<Array<string | null>>({ text: query.text, values: query.values, rowMode: 'array', types: RAW_TEXT })).rows;
      } catch (err) {
        // 42703 undefined_column: one of ours is gone (dropped or renamed).
        if (attempt > 0 || (err as { code?: string }).code !== '42703') throw err;
        await this.columnKinds(true);
        continue;
      }
      // Columns the connection may not see (information_schema lists only granted ones) stay apart: one refresh, then go on.
      if (attempt === 0 && cells.length > 0 && columnCountOf(cells[0]!) !== query.columnCountAt) {
        await this.columnKinds(true);
        continue;
      }
      return cells.map((c) => query.decode(c));
    }
  }

  async rowCount(): Promise<number> {
    const res = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.qualifiedName}`);
    return Number(res.rows[0]!.n);
  }

  /** The current row for a key, or null when it no longer exists (`t.*`: a column named t must not stand for the row). */
  async currentRow(key: Row): Promise<Row | null> {
    const params = this.table.key.map((k) => key[k]);
    const where = this.table.key.map((k, i) => `${q(k)} = $${i + 1}`).join(' AND ');
    const res = await this.pool.query<{ row: string }>(`SELECT to_jsonb(t.*)::text AS row FROM ${this.qualifiedName} t WHERE ${where}`, params);
    return res.rows[0] ? this.rowFromJson(res.rows[0].row) : null;
  }
}
