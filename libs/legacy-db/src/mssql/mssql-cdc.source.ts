import { assertIdentifier, type SystemConfig, type TableConfig } from '@sync/config';
import type { MssqlLegacyDb } from './mssql.legacy-db';
import type { CaptureBatch, CaptureOp, CaptureSource, CapturedChange, Row, SchemaProblem } from '../core/capture-source.interface';
import { decodeLsnPosition, encodeLsn, encodeLsnPosition, lsnBuffer, type LsnPosition } from './mssql-position';
import { type MssqlStatement, qi, runMssql } from './mssql-statement';
import { MSSQL_ROW_JSON, MssqlTableCatalog } from './mssql-table.catalog';
import { parseExactJson } from '../core/value-normalizer';
import { REPUBLISH_PREFIX } from '../core/republish-origin';

/** CDC's function names are `fn_cdc_get_all_changes_` + the instance, at most 128 characters. */
const MAX_CAPTURE_INSTANCE = 100;
const ZERO_LSN = '0'.repeat(20);

/**
 * Capture instance of the write-back inbox (`<syncSchema>.inbox`, with an `origin` column), when
 * CDC captures it too. CDC records no session context, so echo suppression joins on the commit
 * LSN instead: every change of one transaction shares its `__$start_lsn`, and the write-back
 * writes its inbox row in the same transaction as the rows it applies.
 */
export function mssqlOriginCaptureInstance(system: SystemConfig): string {
  return `${system.syncSchema}_inbox`;
}

export function assertCaptureInstance(name: string, path: string): void {
  assertIdentifier(name, path, 'mssql');
  if (name.length > MAX_CAPTURE_INSTANCE) throw new Error(`${path}: a capture instance has at most ${MAX_CAPTURE_INSTANCE} characters`);
}

/**
 * Statements of the CDC capture. The change function's name is built from the configured capture
 * instance, validated as an identifier and quoted (it cannot be a parameter).
 */
export function mssqlCdcQueries(captureInstance: string, originCaptureInstance: string | null) {
  assertCaptureInstance(captureInstance, 'capture.captureInstance');
  if (originCaptureInstance !== null) assertCaptureInstance(originCaptureInstance, 'origin capture instance');
  const changes = `cdc.${qi(`fn_cdc_get_all_changes_${captureInstance}`)}`;
  const origin = originCaptureInstance
    ? {
        column: 'o.[origin]',
        // A batch may hold plain write-backs and ones that won a conflict (`republish:` origin, to be
        // published); CDC cannot tell which row came from which, so a plain one makes the whole
        // transaction a write-back: never an echo, at the price of not republishing in such a batch.
        apply: ` OUTER APPLY (SELECT TOP (1) ib.[origin] FROM cdc.${qi(`${originCaptureInstance}_CT`)} AS ib WHERE ib.[__$start_lsn] = c.[__$start_lsn] AND ib.[__$operation] = 2 ORDER BY CASE WHEN ib.[origin] LIKE N'${REPUBLISH_PREFIX}%' THEN 1 ELSE 0 END) AS o`,
      }
    : { column: 'CAST(NULL AS nvarchar(128))', apply: '' };
  const ci = { name: 'ci', type: 'nvarchar', value: captureInstance } as const;
  return {
    /** Bounds for the start position (the LSN just before the validity interval when it is empty). */
    start: (): MssqlStatement => ({
      text: 'SELECT m.[min_lsn], sys.fn_cdc_get_max_lsn() AS [max_lsn], CASE WHEN m.[min_lsn] = 0x00000000000000000000 THEN NULL ELSE sys.fn_cdc_decrement_lsn(m.[min_lsn]) END AS [before_min] FROM (SELECT sys.fn_cdc_get_min_lsn(@ci) AS [min_lsn]) AS m',
      params: [ci],
    }),
    bounds: (lsn: Buffer): MssqlStatement => ({
      text: 'SELECT sys.fn_cdc_get_min_lsn(@ci) AS [min_lsn], sys.fn_cdc_get_max_lsn() AS [max_lsn], sys.fn_cdc_increment_lsn(@lsn) AS [next_lsn]',
      params: [ci, { name: 'lsn', type: 'lsn', value: lsn }],
    }),
    /**
     * Changes in [from, to] after (seqval, operation) within `from`. Ordered by commit LSN, then
     * seqval, then operation, so an update's before (3) comes right before its after (4).
     * fn_cdc_map_lsn_to_time gives server local time; the offset turns it into UTC.
     */
    read: (from: Buffer, to: Buffer, within: LsnPosition['within'], fetch: number): MssqlStatement => ({
      text: `SELECT TOP (@fetch) c.[__$start_lsn] AS [_lsn], c.[__$seqval] AS [_seq], c.[__$operation] AS [_op], (SELECT c.* ${MSSQL_ROW_JSON}) AS [_row], DATEADD(minute, -DATEPART(TZOFFSET, SYSDATETIMEOFFSET()), sys.fn_cdc_map_lsn_to_time(c.[__$start_lsn])) AS [_committed_at], ${origin.column} AS [_origin] FROM ${changes}(@from, @to, N'all update old') AS c${origin.apply} WHERE c.[__$start_lsn] > @from OR c.[__$seqval] > @seq OR (c.[__$seqval] = @seq AND c.[__$operation] > @op) ORDER BY c.[__$start_lsn], c.[__$seqval], c.[__$operation]`,
      params: [
        { name: 'fetch', type: 'int', value: fetch },
        { name: 'from', type: 'lsn', value: from },
        { name: 'to', type: 'lsn', value: to },
        // Outside a commit LSN (within = null) every row at `from` is new: seqval > 0 holds for all.
        { name: 'seq', type: 'lsn', value: within ? lsnBuffer(within.seqval) : Buffer.alloc(10) },
        { name: 'op', type: 'int', value: within ? within.operation : 0 },
      ],
    }),
    /** Counted on the change table itself: the change function would build every row image. */
    backlog: (pos: LsnPosition): MssqlStatement => ({
      text: `SELECT COUNT_BIG(*) AS [n] FROM cdc.${qi(`${captureInstance}_CT`)} AS c WHERE c.[__$start_lsn] > @lsn${
        pos.within ? ' OR (c.[__$start_lsn] = @lsn AND (c.[__$seqval] > @seq OR (c.[__$seqval] = @seq AND c.[__$operation] > @op)))' : ''
      }`,
      params: [
        { name: 'lsn', type: 'lsn', value: lsnBuffer(pos.lsn) },
        ...(pos.within
          ? [
              { name: 'seq', type: 'lsn', value: lsnBuffer(pos.within.seqval) } as const,
              { name: 'op', type: 'int', value: pos.within.operation } as const,
            ]
          : []),
      ],
    }),
    captureInstanceExists: (name: string): MssqlStatement => ({
      text: 'SELECT COUNT(*) AS [n] FROM cdc.change_tables WHERE capture_instance = @name',
      params: [{ name: 'name', type: 'nvarchar', value: name }],
    }),
  };
}

/** One row of cdc.fn_cdc_get_all_changes_*, metadata decoded, the row image still raw. */
export interface CdcRow {
  readonly lsn: string;
  readonly seqval: string;
  /** 1 delete, 2 insert, 3 update (before), 4 update (after). */
  readonly operation: number;
  readonly image: Row;
  readonly committedAt: string;
  readonly origin: string | null;
}

export interface CdcChange {
  readonly op: CaptureOp;
  readonly before: Row | null;
  readonly after: Row | null;
  /** The row the change ends on (its position). */
  readonly last: CdcRow;
}

/**
 * Turns ordered CDC rows into changes, pairing each update's before (3) and after (4) into one
 * 'u'. Stops at `limit` changes, and never between the two halves of an update: a 3 whose 4 was
 * not fetched stays for the next batch. `consumed` counts the rows used.
 */
export function pairCdcRows(rows: readonly CdcRow[], limit: number): { changes: CdcChange[]; consumed: number } {
  const changes: CdcChange[] = [];
  let i = 0;
  while (i < rows.length && changes.length < limit) {
    const row = rows[i]!;
    switch (row.operation) {
      case 1:
        changes.push({ op: 'd', before: row.image, after: null, last: row });
        i += 1;
        break;
      case 2:
        changes.push({ op: 'c', before: null, after: row.image, last: row });
        i += 1;
        break;
      case 3: {
        const next = rows[i + 1];
        if (next === undefined) return { changes, consumed: i };
        if (next.operation !== 4 || next.lsn !== row.lsn || next.seqval !== row.seqval) {
          throw new Error(`CDC update-before at LSN ${row.lsn} seqval ${row.seqval} has no update-after`);
        }
        changes.push({ op: 'u', before: row.image, after: next.image, last: next });
        i += 2;
        break;
      }
      case 4:
        // Only when the before half was consumed by an earlier batch, which pairCdcRows avoids.
        changes.push({ op: 'u', before: null, after: row.image, last: row });
        i += 1;
        break;
      default:
        throw new Error(`unknown CDC __$operation ${row.operation} at LSN ${row.lsn}`);
    }
  }
  return { changes, consumed: i };
}

/** The row image without CDC's own columns (__$start_lsn, __$seqval, __$operation, __$update_mask, ...). */
export function cdcImage(raw: Row): Row {
  return Object.fromEntries(Object.entries(raw).filter(([c]) => !c.startsWith('__$')));
}

/**
 * Why a saved position can no longer be read, or undefined. `nextLsn` is fn_cdc_increment_lsn of
 * the position's LSN: the first change not yet read there, unless the read stopped inside it.
 */
export function cdcPositionGap(captureInstance: string, position: LsnPosition, minLsn: string, nextLsn: string): string | undefined {
  if (minLsn === ZERO_LSN) return `CDC capture instance ${captureInstance} does not exist or this login may not read it`;
  const needed = position.within ? position.lsn : nextLsn;
  if (needed >= minLsn) return undefined;
  return `saved CDC position ${encodeLsnPosition(position)} is older than the oldest change capture instance ${captureInstance} still keeps (LSN ${minLsn}): CDC cleanup removed changes that were never read; re-snapshot the entity (capture.resnapshotOnGap) or raise the CDC retention`;
}

/** Thrown by readChanges when the saved position fell out of the CDC retention window. */
export class CdcPositionGapError extends Error {
  override readonly name = 'CdcPositionGapError';
}

interface ReadRow {
  _lsn: Buffer;
  _seq: Buffer;
  _op: number;
  _row: string;
  _committed_at: Date | null;
  _origin: string | null;
}

interface Bounds {
  min_lsn: Buffer;
  max_lsn: Buffer;
  next_lsn: Buffer;
}

/** SQL Server CDC capture: `cdc.fn_cdc_get_all_changes_<instance>`, positions by commit LSN. */
export class MssqlCdcSource implements CaptureSource {
  private readonly catalog: MssqlTableCatalog;
  private readonly captureInstance: string;
  private readonly originInstance: string;
  private queries: ReturnType<typeof mssqlCdcQueries> | undefined;

  constructor(private readonly db: MssqlLegacyDb, system: SystemConfig, readonly table: TableConfig) {
    if (table.capture.mode !== 'cdc') throw new Error(`${table.system}.${table.schema}.${table.name} is not in cdc capture mode`);
    this.captureInstance = table.capture.captureInstance;
    this.originInstance = mssqlOriginCaptureInstance(system);
    this.catalog = new MssqlTableCatalog(db, table);
  }

  /** The statements, with the inbox join only when the inbox is captured too (checked once, again in checkSchema). */
  private async cdcQueries(refresh = false): Promise<ReturnType<typeof mssqlCdcQueries>> {
    if (this.queries && !refresh) return this.queries;
    const probe = mssqlCdcQueries(this.captureInstance, null);
    const res = await runMssql<{ n: number }>(await this.db.connected(), probe.captureInstanceExists(this.originInstance));
    this.queries = mssqlCdcQueries(this.captureInstance, res.rows[0]!.n > 0 ? this.originInstance : null);
    return this.queries;
  }

  async startPosition(): Promise<string> {
    const q = await this.cdcQueries();
    const res = await runMssql<{ min_lsn: Buffer; max_lsn: Buffer | null; before_min: Buffer | null }>(await this.db.connected(), q.start());
    const r = res.rows[0]!;
    if (r.before_min === null) throw new Error(cdcPositionGap(this.captureInstance, { lsn: ZERO_LSN, within: null }, ZERO_LSN, ZERO_LSN));
    // Before the first change of a new capture instance, max_lsn can lie below its start.
    const max = r.max_lsn ? encodeLsn(r.max_lsn) : ZERO_LSN;
    const beforeMin = encodeLsn(r.before_min);
    return encodeLsnPosition({ lsn: max > beforeMin ? max : beforeMin, within: null });
  }

  private async bounds(pos: LsnPosition): Promise<{ min: string; max: string; next: string }> {
    const q = await this.cdcQueries();
    const res = await runMssql<Bounds>(await this.db.connected(), q.bounds(lsnBuffer(pos.lsn)));
    const r = res.rows[0]!;
    return { min: encodeLsn(r.min_lsn), max: r.max_lsn ? encodeLsn(r.max_lsn) : ZERO_LSN, next: encodeLsn(r.next_lsn) };
  }

  async readChanges(position: string, limit: number): Promise<CaptureBatch> {
    const pos = decodeLsnPosition(position);
    const b = await this.bounds(pos);
    const gap = cdcPositionGap(this.captureInstance, pos, b.min, b.next);
    if (gap) throw new CdcPositionGapError(gap);
    const from = pos.within ? pos.lsn : b.next;
    // Nothing committed since: the change function rejects from > to (error 313), so do not ask.
    if (from > b.max) return { changes: [], next: position, full: false };
    const fetch = limit + 1;
    const q = await this.cdcQueries();
    const res = await runMssql<ReadRow>(await this.db.connected(), q.read(lsnBuffer(from), lsnBuffer(b.max), pos.within, fetch));
    const rows: CdcRow[] = res.rows.map((r) => ({
      lsn: encodeLsn(r._lsn),
      seqval: encodeLsn(r._seq),
      operation: r._op,
      image: cdcImage(parseExactJson(r._row) as Row),
      committedAt: (r._committed_at ?? new Date()).toISOString(),
      origin: r._origin,
    }));
    const { changes: paired, consumed } = pairCdcRows(rows, limit);
    const changes: CapturedChange[] = [];
    for (const c of paired) {
      changes.push({
        op: c.op,
        before: c.before ? await this.catalog.normalise(c.before) : null,
        after: c.after ? await this.catalog.normalise(c.after) : null,
        changeId: `${c.last.lsn}:${c.last.seqval}:${c.last.operation}`,
        committedAt: c.last.committedAt,
        txId: c.last.lsn,
        origin: c.last.origin,
      });
    }
    const complete = rows.length < fetch && consumed === rows.length;
    const last = paired[paired.length - 1]?.last;
    // Everything up to max_lsn was read: move there, so a quiet table's position keeps up with
    // CDC cleanup instead of falling behind the retention window.
    const next: LsnPosition = complete
      ? { lsn: b.max, within: null }
      : last
        ? { lsn: last.lsn, within: { seqval: last.seqval, operation: last.operation } }
        : pos;
    return { changes, next: encodeLsnPosition(next), full: !complete };
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
    const q = await this.cdcQueries(true);
    const res = await runMssql<{ n: number }>(await this.db.connected(), q.captureInstanceExists(this.captureInstance));
    if (res.rows[0]!.n === 0) {
      return { message: `${this.table.system}.${this.table.schema}.${this.table.name}: CDC capture instance ${this.captureInstance} not found (sys.sp_cdc_enable_table)` };
    }
    return undefined;
  }

  /** Change rows CDC holds after the position (an update counts twice: before and after). */
  async backlog(position: string): Promise<number> {
    const q = await this.cdcQueries();
    const res = await runMssql<{ n: string }>(await this.db.connected(), q.backlog(decodeLsnPosition(position)));
    return Number(res.rows[0]!.n);
  }

  /** CDC's own cleanup job owns retention (sys.sp_cdc_change_job @retention). */
  async purge(): Promise<number> {
    return 0;
  }

  async positionProblem(position: string): Promise<string | undefined> {
    let pos: LsnPosition;
    try {
      pos = decodeLsnPosition(position);
    } catch (err) {
      return (err as Error).message;
    }
    const b = await this.bounds(pos);
    return cdcPositionGap(this.captureInstance, pos, b.min, b.next);
  }
}
