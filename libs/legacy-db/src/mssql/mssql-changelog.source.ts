import type { OperationValues, SystemConfig, TableConfig } from '@sync/config';
import { isLosslessNumber } from 'lossless-json';
import type { MssqlLegacyDb } from './mssql.legacy-db';
import type { CaptureBatch, CaptureOp, CaptureSource, CapturedChange, Row, SchemaProblem } from '../core/capture-source.interface';
import { MSSQL_ORIGIN_COLUMN } from './mssql-changelog.ddl';
import { decodeRowversion, encodeRowversion, rowversionBefore } from './mssql-position';
import { type MssqlStatement, qi, runMssql } from './mssql-statement';
import { MSSQL_ROW_JSON, MssqlTableCatalog } from './mssql-table.catalog';
import { parseExactJson } from '../core/value-normalizer';

type ChangelogCapture = Extract<TableConfig['capture'], { mode: 'changelog' }>;

function changelogCapture(table: TableConfig): ChangelogCapture {
  if (table.capture.mode !== 'changelog') throw new Error(`${table.system}.${table.schema}.${table.name} is not in changelog capture mode`);
  return table.capture;
}

/**
 * Statements of the existing-changelog capture on SQL Server. The watermark column is a
 * rowversion (added by `mssqlChangelogDdl` when missing) read below MIN_ACTIVE_ROWVERSION(), for
 * the same reason as in the trigger mode (see mssqlTriggerQueries). Each changelog row comes back
 * whole as FOR JSON text, so decimals stay exact and binary is base64 whatever columns it has.
 */
export function mssqlChangelogQueries(capture: ChangelogCapture) {
  const changelog = `${qi(capture.changelogSchema)}.${qi(capture.changelogTable)}`;
  const wm = `c.${qi(capture.watermarkColumn)}`;
  return {
    watermark: (): MssqlStatement => ({ text: 'SELECT MIN_ACTIVE_ROWVERSION() AS [watermark]', params: [] }),
    read: (after: Buffer, limit: number): MssqlStatement => ({
      text: `SELECT TOP (@limit) ${wm} AS [_wm], (SELECT c.* ${MSSQL_ROW_JSON}) AS [_row], SYSUTCDATETIME() AS [_read_at] FROM ${changelog} AS c WHERE ${wm} > @after AND ${wm} < MIN_ACTIVE_ROWVERSION() ORDER BY ${wm}`,
      params: [
        { name: 'limit', type: 'int', value: limit },
        { name: 'after', type: 'rowversion', value: after },
      ],
    }),
    backlog: (after: Buffer): MssqlStatement => ({
      text: `SELECT COUNT_BIG(*) AS [n] FROM ${changelog} AS c WHERE ${wm} > @after`,
      params: [{ name: 'after', type: 'rowversion', value: after }],
    }),
    columns: (): MssqlStatement => ({
      text: 'SELECT COLUMN_NAME AS column_name FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = @schema AND TABLE_NAME = @table',
      params: [
        { name: 'schema', type: 'nvarchar', value: capture.changelogSchema },
        { name: 'table', type: 'nvarchar', value: capture.changelogTable },
      ],
    }),
  };
}

function text(value: unknown): string {
  if (isLosslessNumber(value)) return String(value);
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The operation a changelog value stands for (char columns come back space-padded). */
export function mapOperation(value: unknown, values: OperationValues): CaptureOp | undefined {
  const v = text(value).trim();
  if (v === String(values.insert).trim()) return 'c';
  if (v === String(values.update).trim()) return 'u';
  if (v === String(values.delete).trim()) return 'd';
  return undefined;
}

/** A stable change id from the position columns, so a re-read row keeps its event id. */
export function changelogChangeId(raw: Row, positionColumns: readonly string[], fallback: string): string {
  return positionColumns.length > 0 ? positionColumns.map((c) => text(raw[c])).join(':') : fallback;
}

interface ReadRow {
  _wm: Buffer;
  _row: string;
  _read_at: Date;
}

/** Capture from a changelog table the legacy application already keeps (never purged: not ours). */
export class MssqlChangelogSource implements CaptureSource {
  private readonly catalog: MssqlTableCatalog;
  private readonly capture: ChangelogCapture;
  private readonly queries: ReturnType<typeof mssqlChangelogQueries>;
  private readonly label: string;

  constructor(private readonly db: MssqlLegacyDb, _system: SystemConfig, readonly table: TableConfig) {
    this.capture = changelogCapture(table);
    this.catalog = new MssqlTableCatalog(db, table);
    this.queries = mssqlChangelogQueries(this.capture);
    this.label = `${table.system}.${table.schema}.${table.name}`;
  }

  async startPosition(): Promise<string> {
    const res = await runMssql<{ watermark: Buffer }>(await this.db.connected(), this.queries.watermark());
    return rowversionBefore(res.rows[0]!.watermark);
  }

  async readChanges(position: string, limit: number): Promise<CaptureBatch> {
    const res = await runMssql<ReadRow>(await this.db.connected(), this.queries.read(decodeRowversion(position), limit));
    const baseColumns = new Set((await this.catalog.columnKinds()).keys());
    // With keys only, one batch may name a key several times: its current row is read once.
    const current = new Map<string, Row | null>();
    const changes: CapturedChange[] = [];
    for (const r of res.rows) {
      const raw = parseExactJson(r._row) as Row;
      const wm = encodeRowversion(r._wm);
      const mapped = mapOperation(raw[this.capture.operationColumn], this.capture.operationValues);
      if (!mapped) {
        throw new Error(`${this.label}: changelog row ${wm} has operation ${JSON.stringify(text(raw[this.capture.operationColumn]))}, which capture.operationValues does not map`);
      }
      const key = await this.catalog.normalise(Object.fromEntries(this.table.key.map((k, i) => [k, raw[this.capture.keyColumns[i] ?? k]])));
      let op: CaptureOp = mapped;
      let image: Row | null;
      if (this.capture.keysOnly) {
        const id = JSON.stringify(key);
        if (op !== 'd' && !current.has(id)) current.set(id, await this.catalog.currentRow(key));
        image = op === 'd' ? null : (current.get(id) ?? null);
        // Gone by now: deleted later (its own changelog row follows), so this change ends in a delete.
        if (image === null) op = 'd';
      } else if (this.capture.rowImageColumn !== undefined) {
        const json = raw[this.capture.rowImageColumn];
        image = typeof json === 'string' ? await this.catalog.rowFromJson(json) : null;
      } else {
        image = await this.catalog.normalise(raw, baseColumns);
      }
      const origin = raw[MSSQL_ORIGIN_COLUMN];
      changes.push({
        op,
        before: op === 'd' ? (image ?? key) : null,
        after: op === 'd' ? null : image,
        changeId: changelogChangeId(raw, this.capture.positionColumns, wm),
        // The legacy changelog has no commit time the suite knows of: the time it was read.
        committedAt: r._read_at.toISOString(),
        txId: null,
        origin: typeof origin === 'string' ? origin : null,
      });
    }
    const last = res.rows[res.rows.length - 1];
    return { changes, next: last ? encodeRowversion(last._wm) : position, full: res.rows.length >= limit };
  }

  snapshotChunk(afterKey: Row | null, limit: number): Promise<Row[]> {
    return this.catalog.snapshotChunk(afterKey, limit);
  }

  currentRow(key: Row): Promise<Row | null> {
    return this.catalog.currentRow(key);
  }

  rowCount(): Promise<number> {
    return this.catalog.rowCount();
  }

  async checkSchema(): Promise<SchemaProblem | undefined> {
    const base = await this.catalog.checkSchema();
    if (base) return base;
    const res = await runMssql<{ column_name: string }>(await this.db.connected(), this.queries.columns());
    const have = new Set(res.rows.map((r) => r.column_name));
    const where = `${this.capture.changelogSchema}.${this.capture.changelogTable}`;
    if (have.size === 0) return { message: `${this.label}: changelog table ${where} not found` };
    const needed = [
      this.capture.watermarkColumn,
      this.capture.operationColumn,
      ...this.capture.positionColumns,
      ...this.capture.keyColumns,
      ...(this.capture.rowImageColumn !== undefined ? [this.capture.rowImageColumn] : []),
    ];
    const missing = [...new Set(needed)].filter((c) => !have.has(c));
    if (missing.length === 0) return undefined;
    const hint = missing.includes(this.capture.watermarkColumn) ? ' (apply `sync-ctl schema` to add the rowversion watermark)' : '';
    return { message: `${this.label}: changelog ${where} lacks column(s) ${missing.map((c) => `"${c}"`).join(', ')}${hint}` };
  }

  async backlog(position: string): Promise<number> {
    const res = await runMssql<{ n: string }>(await this.db.connected(), this.queries.backlog(decodeRowversion(position)));
    return Number(res.rows[0]!.n);
  }

  /** The legacy application owns this table: the suite never deletes from it. */
  async purge(): Promise<number> {
    return 0;
  }

  async positionProblem(position: string): Promise<string | undefined> {
    try {
      decodeRowversion(position);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }
}
