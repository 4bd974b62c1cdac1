import type { Pool } from 'pg';
import { quoteIdent, type SystemConfig, type TableConfig } from '@sync/config';
import type { CaptureBatch, CaptureOp, CaptureSource, CapturedChange, Row, SchemaProblem } from './capture-source.interface';
import { changelogNames } from './changelog-names';
import { PostgresTableCatalog } from './postgres-table.catalog';

const q = (name: string): string => quoteIdent('postgres', name);

/**
 * Position in a PostgreSQL trigger changelog. Transactions with xid below `lo` are fully read;
 * the window [lo, hi) holds only finished transactions (hi was the oldest active xid when the
 * window opened), read in changelog-id order after `id`. hi = null: no window open.
 */
export interface XidWindowPosition {
  readonly lo: string;
  readonly hi: string | null;
  readonly id: string;
}

export function encodeXidPosition(p: XidWindowPosition): string {
  return JSON.stringify(p);
}

export function decodeXidPosition(position: string): XidWindowPosition {
  const p = JSON.parse(position) as Partial<XidWindowPosition>;
  if (typeof p.lo !== 'string' || !/^\d+$/.test(p.lo) || (p.hi !== null && (typeof p.hi !== 'string' || !/^\d+$/.test(p.hi))) || typeof p.id !== 'string' || !/^\d+$/.test(p.id)) {
    throw new Error(`invalid PostgreSQL changelog position ${position}`);
  }
  return { lo: p.lo, hi: p.hi, id: p.id };
}

interface ChangelogRow {
  id: string;
  tx: string;
  op: CaptureOp;
  before: string | null;
  after: string | null;
  origin: string | null;
  changed_at: Date;
}

/**
 * Trigger changelog capture on PostgreSQL. Changelog ids (a sequence) are not commit order: a
 * transaction can take an id, commit seconds later, and be overtaken. So reads only ever cover
 * transactions older than the oldest still running (pg_snapshot_xmin), window by window; inside a
 * window every transaction has finished, and id order keeps each row's changes in lock order.
 */
export class PostgresTriggerSource implements CaptureSource {
  private readonly catalog: PostgresTableCatalog;
  private readonly changelog: string;

  constructor(private readonly pool: Pool, system: SystemConfig, readonly table: TableConfig) {
    this.catalog = new PostgresTableCatalog(pool, table);
    this.changelog = `${q(system.syncSchema)}.${q(changelogNames(table).table)}`;
  }

  private async xmin(): Promise<string> {
    const res = await this.pool.query<{ xmin: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
    return res.rows[0]!.xmin;
  }

  async startPosition(): Promise<string> {
    return encodeXidPosition({ lo: await this.xmin(), hi: null, id: '0' });
  }

  async readChanges(position: string, limit: number): Promise<CaptureBatch> {
    let pos = decodeXidPosition(position);
    if (pos.hi === null) {
      const hi = await this.xmin();
      if (BigInt(hi) <= BigInt(pos.lo)) return { changes: [], next: position, full: false };
      pos = { lo: pos.lo, hi, id: '0' };
    }
    const res = await this.pool.query<ChangelogRow>(
      `SELECT "id"::text AS id, "tx"::text AS tx, "op", "before"::text AS before, "after"::text AS after, "origin", "changed_at"
         FROM ${this.changelog}
        WHERE "id" > $1::bigint AND "tx" >= $2::xid8 AND "tx" < $3::xid8
        ORDER BY "id" LIMIT $4`,
      [pos.id, pos.lo, pos.hi, limit],
    );
    const changes: CapturedChange[] = [];
    for (const r of res.rows) {
      changes.push({
        op: r.op,
        before: await this.catalog.rowFromJson(r.before),
        after: await this.catalog.rowFromJson(r.after),
        changeId: r.id,
        committedAt: r.changed_at.toISOString(),
        txId: r.tx,
        origin: r.origin,
      });
    }
    const full = res.rows.length >= limit;
    const next: XidWindowPosition = full ? { ...pos, id: res.rows[res.rows.length - 1]!.id } : { lo: pos.hi!, hi: null, id: '0' };
    return { changes, next: encodeXidPosition(next), full };
  }

  snapshotChunk(afterKey: Row | null, limit: number): Promise<Row[]> {
    return this.catalog.snapshotChunk(afterKey, limit);
  }

  checkSchema(): Promise<SchemaProblem | undefined> {
    return this.catalog.checkSchema();
  }

  async backlog(position: string): Promise<number> {
    const pos = decodeXidPosition(position);
    const res = await this.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${this.changelog} WHERE "tx" >= $1::xid8 AND "id" > $2::bigint`, [pos.lo, pos.id]);
    return Number(res.rows[0]!.n);
  }

  async purge(position: string, olderThanMs: number, limit: number): Promise<number> {
    const pos = decodeXidPosition(position);
    const res = await this.pool.query(
      `DELETE FROM ${this.changelog} WHERE "id" IN (
         SELECT "id" FROM ${this.changelog}
          WHERE "tx" < $1::xid8 AND "changed_at" < clock_timestamp() - make_interval(secs => $2::double precision / 1000)
          ORDER BY "id" LIMIT $3)`,
      [pos.lo, olderThanMs, limit],
    );
    return res.rowCount ?? 0;
  }

  async positionProblem(position: string): Promise<string | undefined> {
    try {
      decodeXidPosition(position);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }
}
