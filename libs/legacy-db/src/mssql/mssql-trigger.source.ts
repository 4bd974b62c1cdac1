import type { SystemConfig, TableConfig } from '@sync/config';
import type { MssqlLegacyDb } from './mssql.legacy-db';
import { DataError } from '@sync/errors';
import type { CaptureBatch, CaptureOp, CaptureSource, Row, SchemaProblem } from '../core/capture-source.interface';
import { decodeChanges } from '../core/change-decoder';
import { mssqlChangelogNames } from './mssql-changelog.ddl';
import { decodeRowversion, encodeRowversion, rowversionBefore } from './mssql-position';
import { type MssqlStatement, runMssql } from './mssql-statement';
import { MssqlTableCatalog } from './mssql-table.catalog';

/**
 * Statements of the trigger changelog capture on SQL Server.
 *
 * Commit safety: a rowversion is assigned when a row is written, not when its transaction
 * commits, so a transaction can hold a low rv and commit after rows with higher rvs were read.
 * MIN_ACTIVE_ROWVERSION() is the lowest rowversion of any still-open transaction in the
 * database (@@DBTS + 1 when none is open), so every row below it is committed and no row below
 * it can still appear: reading only `rv < MIN_ACTIVE_ROWVERSION()` never skips a late commit.
 *
 * Per-key order: a later change of the same row, in a later transaction, has to wait for the row
 * lock the first transaction holds until it commits; its trigger therefore writes the changelog
 * row after that commit and gets a higher rv. Within one transaction rvs grow statement by
 * statement. Ordering by rv thus keeps each key's changes in commit order.
 */
export function mssqlTriggerQueries(changelog: string) {
  return {
    watermark: (): MssqlStatement => ({ text: 'SELECT MIN_ACTIVE_ROWVERSION() AS [watermark]', params: [] }),
    // READPAST: a row locked by a writer belongs to an open transaction, so its rv is at or above
    // MIN_ACTIVE_ROWVERSION() and excluded anyway; skipping it instead of waiting keeps a long
    // legacy transaction from blocking the read when the plan scans (the only other writer, the
    // purge, deletes rows already read).
    read: (after: Buffer, limit: number): MssqlStatement => ({
      text: `SELECT TOP (@limit) [id], [rv], [op], [before], [after], [origin], [tx], [changed_at] FROM ${changelog} WITH (READPAST) WHERE [rv] > @after AND [rv] < MIN_ACTIVE_ROWVERSION() ORDER BY [rv]`,
      params: [
        { name: 'limit', type: 'int', value: limit },
        { name: 'after', type: 'rowversion', value: after },
      ],
    }),
    // Lag: the oldest committed row after the position, including rows at or above
    // MIN_ACTIVE_ROWVERSION() that an older open transaction holds back (so lag grows while polls
    // are empty). READPAST skips only that open transaction's own, uncommitted rows.
    pendingAge: (after: Buffer): MssqlStatement => ({
      text: `SELECT DATEDIFF_BIG(millisecond, MIN([changed_at]), SYSUTCDATETIME()) AS [ageMs] FROM ${changelog} WITH (READPAST) WHERE [rv] > @after`,
      params: [{ name: 'after', type: 'rowversion', value: after }],
    }),
    backlog: (after: Buffer): MssqlStatement => ({
      text: `SELECT COUNT_BIG(*) AS [n] FROM ${changelog} WHERE [rv] > @after`,
      params: [{ name: 'after', type: 'rowversion', value: after }],
    }),
    /** Bounded: at most `limit` rows already read (rv <= position) and older than the retention. */
    purge: (upTo: Buffer, olderThanMs: number, limit: number): MssqlStatement => ({
      text: `DELETE FROM ${changelog} WHERE [id] IN (SELECT TOP (@limit) [id] FROM ${changelog} WHERE [rv] <= @upTo AND [changed_at] < DATEADD(millisecond, -@ageMs, DATEADD(second, -@ageS, SYSUTCDATETIME())) ORDER BY [rv])`,
      params: [
        { name: 'limit', type: 'int', value: limit },
        { name: 'upTo', type: 'rowversion', value: upTo },
        // DATEADD takes an int: whole seconds plus the remaining milliseconds reach past 24 days.
        { name: 'ageS', type: 'int', value: Math.floor(olderThanMs / 1000) },
        { name: 'ageMs', type: 'int', value: Math.floor(olderThanMs % 1000) },
      ],
    }),
  };
}

interface ChangelogRow {
  id: string;
  rv: Buffer;
  op: string;
  before: string | null;
  after: string | null;
  origin: string | null;
  tx: string | null;
  changed_at: Date;
}

const OPS: ReadonlySet<string> = new Set(['c', 'u', 'd']);

/** Trigger changelog capture on SQL Server: the generated changelog, read below MIN_ACTIVE_ROWVERSION(). */
export class MssqlTriggerSource implements CaptureSource {
  private readonly catalog: MssqlTableCatalog;
  private readonly queries: ReturnType<typeof mssqlTriggerQueries>;

  constructor(private readonly db: MssqlLegacyDb, system: SystemConfig, readonly table: TableConfig) {
    this.catalog = new MssqlTableCatalog(db, table);
    this.queries = mssqlTriggerQueries(mssqlChangelogNames(system.syncSchema, table).changelog);
  }

  async startPosition(): Promise<string> {
    const res = await runMssql<{ watermark: Buffer }>(await this.db.connected(), this.queries.watermark());
    return rowversionBefore(res.rows[0]!.watermark);
  }

  async readChanges(position: string, limit: number): Promise<CaptureBatch> {
    const res = await runMssql<ChangelogRow>(await this.db.connected(), this.queries.read(decodeRowversion(position), limit));
    const { changes, rejected } = await decodeChanges(
      this.table,
      res.rows,
      async (r) => {
        const op = r.op.trim();
        if (!OPS.has(op)) throw new DataError(`${this.table.system}.${this.table.schema}.${this.table.name}: changelog row ${r.id} has unknown op ${JSON.stringify(r.op)}`);
        return {
          op: op as CaptureOp,
          before: await this.catalog.rowFromJson(r.before),
          after: await this.catalog.rowFromJson(r.after),
          changeId: r.id,
          committedAt: r.changed_at.toISOString(),
          txId: r.tx,
          origin: r.origin,
        };
      },
      (r) => ({ changeId: r.id, txId: r.tx, key: null }),
    );
    const last = res.rows[res.rows.length - 1];
    return { changes, rejected, next: last ? encodeRowversion(last.rv) : position, full: res.rows.length >= limit };
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

  checkSchema(): Promise<SchemaProblem | undefined> {
    return this.catalog.checkSchema();
  }

  async backlog(position: string): Promise<number> {
    const res = await runMssql<{ n: string }>(await this.db.connected(), this.queries.backlog(decodeRowversion(position)));
    return Number(res.rows[0]!.n);
  }

  async pendingAgeSeconds(position: string): Promise<number> {
    const res = await runMssql<{ ageMs: string | number | null }>(await this.db.connected(), this.queries.pendingAge(decodeRowversion(position)));
    const ms = Number(res.rows[0]?.ageMs ?? 0);
    return Math.max(0, ms / 1000);
  }

  async purge(position: string, olderThanMs: number, limit: number): Promise<number> {
    const res = await runMssql(await this.db.connected(), this.queries.purge(decodeRowversion(position), olderThanMs, limit));
    return res.rowsAffected;
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
