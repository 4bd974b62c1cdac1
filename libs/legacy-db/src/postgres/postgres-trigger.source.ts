import type { Pool } from 'pg';
import { quoteIdent, type SystemConfig, type TableConfig } from '@sync/config';
import type { CaptureBatch, CaptureOp } from '../core/capture-source.interface';
import { bestEffortKey, decodeChanges } from '../core/change-decoder';
import { changelogNames } from '../core/changelog-names';
import { PostgresXidSource } from './postgres-xid.source';
import { decodeXidPosition, readXidWindow, type XidWindowQuery } from './postgres-xid-window';

const q = (name: string): string => quoteIdent('postgres', name);

interface ChangelogRow extends Record<string, unknown> {
  _pos0: string;
  tx: string;
  op: CaptureOp;
  before: string | null;
  after: string | null;
  origin: string | null;
  changed_at: Date;
}

/** Trigger changelog capture on PostgreSQL: the generated changelog, read by xid windows. */
export class PostgresTriggerSource extends PostgresXidSource {
  private readonly changelog: string;
  private readonly query: XidWindowQuery;

  constructor(pool: Pool, system: SystemConfig, table: TableConfig) {
    super(pool, table);
    this.changelog = `${q(system.syncSchema)}.${q(changelogNames(table).table)}`;
    this.query = {
      from: this.changelog,
      txColumn: '"tx"',
      orderColumns: ['"id"'],
      select: '"id"::text AS _pos0, "tx"::text AS tx, "op", "before"::text AS before, "after"::text AS after, "origin", "changed_at"',
    };
  }

  async readChanges(position: string, limit: number): Promise<CaptureBatch> {
    const page = await readXidWindow<ChangelogRow>(this.pool, this.query, position, limit);
    const { changes, rejected } = await decodeChanges(
      this.table,
      page.rows,
      async (r) => ({
        op: r.op,
        before: await this.catalog.rowFromJson(r.before),
        after: await this.catalog.rowFromJson(r.after),
        changeId: r._pos0,
        committedAt: r.changed_at.toISOString(),
        txId: r.tx,
        origin: r.origin,
      }),
      (r) => ({ changeId: r._pos0, txId: r.tx, key: bestEffortKey(this.table, safeJson(r.after), safeJson(r.before)) }),
    );
    return { changes, rejected, next: page.next, full: page.full };
  }

  async backlog(position: string): Promise<number> {
    const pos = decodeXidPosition(position);
    const res = await this.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${this.changelog} WHERE "tx" >= $1::xid8 AND "id" > $2::bigint`, [
      pos.lo,
      pos.after?.[0] ?? '0',
    ]);
    return Number(res.rows[0]!.n);
  }

  /**
   * Age of the oldest committed change not yet read: every row at or above the position's lower
   * xid bound. While an open transaction holds the watermark, rows committed after it wait here
   * and age, so lag grows even though polls come back empty. Read on the tx index; the age is
   * taken on the database clock, like changed_at.
   */
  async pendingAgeSeconds(position: string): Promise<number> {
    const pos = decodeXidPosition(position);
    const res = await this.pool.query<{ age: number | null }>(
      `SELECT EXTRACT(EPOCH FROM clock_timestamp() - min("changed_at"))::float8 AS age FROM ${this.changelog} WHERE "tx" >= $1::xid8`,
      [pos.lo],
    );
    return Math.max(0, res.rows[0]?.age ?? 0);
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

}

/** A raw image for the dead letter's key, or undefined when it does not even parse. */
function safeJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
