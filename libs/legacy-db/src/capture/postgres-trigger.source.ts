import type { Pool } from 'pg';
import { quoteIdent, type SystemConfig, type TableConfig } from '@sync/config';
import type { CaptureBatch, CaptureOp, CapturedChange } from './capture-source.interface';
import { changelogNames } from './changelog-names';
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
    const changes: CapturedChange[] = [];
    for (const r of page.rows) {
      changes.push({
        op: r.op,
        before: await this.catalog.rowFromJson(r.before),
        after: await this.catalog.rowFromJson(r.after),
        changeId: r._pos0,
        committedAt: r.changed_at.toISOString(),
        txId: r.tx,
        origin: r.origin,
      });
    }
    return { changes, next: page.next, full: page.full };
  }

  async backlog(position: string): Promise<number> {
    const pos = decodeXidPosition(position);
    const res = await this.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${this.changelog} WHERE "tx" >= $1::xid8 AND "id" > $2::bigint`, [
      pos.lo,
      pos.after?.[0] ?? '0',
    ]);
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

}
