import type { Pool } from 'pg';
import { quoteIdent, type SystemConfig, type TableConfig } from '@sync/config';
import { DataError } from '@sync/errors';
import type { CaptureBatch, CaptureOp, CapturedChange, Row } from '../core/capture-source.interface';
import { decodeChanges } from '../core/change-decoder';
import { PostgresXidSource } from './postgres-xid.source';
import { decodeXidPosition, readXidWindow, type XidWindowQuery } from './postgres-xid-window';
import { parseExactJson, scalarText } from '../core/value-normalizer';

const q = (name: string): string => quoteIdent('postgres', name);

type ChangelogCapture = Extract<TableConfig['capture'], { mode: 'changelog' }>;

interface LogRow extends Record<string, unknown> {
  tx: string;
  row: string;
}

/**
 * A changelog table the legacy application already keeps (PostgreSQL). Its own position column is
 * a sequence or timestamp, so not commit order: the xid8 watermark column (`sync-ctl schema` adds
 * it with DEFAULT pg_current_xact_id()) bounds every read as in trigger mode.
 */
export class PostgresChangelogSource extends PostgresXidSource {
  private readonly capture: ChangelogCapture;
  private readonly query: XidWindowQuery;
  private readonly opByCode: Map<string, CaptureOp>;

  constructor(pool: Pool, _system: SystemConfig, table: TableConfig) {
    super(pool, table);
    if (table.capture.mode !== 'changelog') throw new Error(`${table.name}: not a changelog-mode table`);
    this.capture = table.capture;
    const c = this.capture;
    this.opByCode = new Map<string, CaptureOp>([
      [String(c.operationValues.insert), 'c'],
      [String(c.operationValues.update), 'u'],
      [String(c.operationValues.delete), 'd'],
    ]);
    this.query = {
      from: `${q(c.changelogSchema)}.${q(c.changelogTable)} l`,
      txColumn: `l.${q(c.watermarkColumn)}`,
      orderColumns: c.positionColumns.map((p) => `l.${q(p)}`),
      select: [
        ...c.positionColumns.map((p, i) => `l.${q(p)}::text AS _pos${i}`),
        `l.${q(c.watermarkColumn)}::text AS tx`,
        'to_jsonb(l)::text AS row',
      ].join(', '),
    };
  }

  async readChanges(position: string, limit: number): Promise<CaptureBatch> {
    const page = await readXidWindow<LogRow>(this.pool, this.query, position, limit);
    const now = new Date().toISOString();
    const positionOf = (r: LogRow): string => this.capture.positionColumns.map((_, i) => String(r[`_pos${i}`])).join(':');
    const { changes, rejected } = await decodeChanges(
      this.table,
      page.rows,
      (r) => this.toChange(parseExactJson(r.row) as Row, positionOf(r), r.tx, now),
      (r) => ({ changeId: positionOf(r), txId: r.tx, key: this.rawKey(r.row) }),
    );
    return { changes, rejected, next: page.next, full: page.full };
  }

  private async toChange(logRow: Row, changeId: string, tx: string, readAt: string): Promise<CapturedChange> {
    const c = this.capture;
    const code = scalarText(logRow[c.operationColumn]);
    const op = this.opByCode.get(code);
    if (!op) throw new DataError(`${c.changelogSchema}.${c.changelogTable}: unknown operation code "${code}" in ${c.operationColumn} (expected ${[...this.opByCode.keys()].join(', ')})`);
    const rawKey: Row = {};
    this.table.key.forEach((column, i) => (rawKey[column] = logRow[c.keyColumns[i]!]));
    const normalisedKey = await this.catalog.normalise(rawKey);
    const base = { changeId, committedAt: readAt, txId: tx, origin: null };
    if (c.keysOnly) {
      // Only the key is logged: the current row is the after image; no row means it was deleted.
      const current = await this.catalog.currentRow(normalisedKey);
      if (op === 'd' || current === null) return { ...base, op: 'd', before: normalisedKey, after: null };
      return { ...base, op, before: null, after: current };
    }
    const image = c.rowImageColumn ? await this.imageFrom(logRow[c.rowImageColumn]) : await this.catalog.normalise(this.baseColumns(logRow));
    if (op === 'd') return { ...base, op, before: image ?? normalisedKey, after: null };
    return { ...base, op, before: null, after: image };
  }

  /** The key as the changelog row shows it (for a dead letter), or null when unreadable. */
  private rawKey(text: string): Row | null {
    try {
      const logRow = JSON.parse(text) as Row;
      const key: Row = {};
      this.table.key.forEach((column, i) => (key[column] = logRow[this.capture.keyColumns[i]!] ?? null));
      return key;
    } catch {
      return null;
    }
  }

  /** The image column holds JSON: jsonb arrives parsed (exactly), json/text as a string. */
  private async imageFrom(value: unknown): Promise<Row | null> {
    if (value === null || value === undefined) return null;
    return typeof value === 'string' ? this.catalog.rowFromJson(value) : this.catalog.normalise(value as Row);
  }

  /** The changelog row without its own bookkeeping columns: the base table's columns. */
  private baseColumns(logRow: Row): Row {
    const c = this.capture;
    const own = new Set([...c.positionColumns, c.operationColumn, c.watermarkColumn]);
    return Object.fromEntries(Object.entries(logRow).filter(([k]) => !own.has(k)));
  }

  async backlog(position: string): Promise<number> {
    const pos = decodeXidPosition(position);
    const res = await this.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${this.query.from} WHERE ${this.query.txColumn} >= $1::xid8`, [pos.lo]);
    return Number(res.rows[0]!.n);
  }

  /** Not our table: the legacy application owns its retention. */
  async purge(): Promise<number> {
    return 0;
  }

}
