import type { Pool } from 'pg';
import type { TableConfig } from '@sync/config';
import type { CaptureBatch, CaptureSource, CapturedChange, ReplicationLag, Row, SchemaProblem } from '../core/capture-source.interface';
import { bestEffortKey, decodeChanges } from '../core/change-decoder';
import { formatLsn, parseLsn, type PgTuple } from './pgoutput.decoder';
import { jsonLikeRow } from './pgoutput-values';
import { identityProblem, pgReplicaIdentityQuery } from './postgres-logical.ddl';
import type { LogicalFeed, LogicalRowChange, LogicalTxn, PostgresLogicalHub } from './postgres-logical.hub';
import { PostgresTableCatalog } from './postgres-table.catalog';

interface Item {
  readonly txn: LogicalTxn;
  readonly change: LogicalRowChange;
}

/**
 * `capture.mode: logical` for one table: its share of the system's logical replication stream
 * (PostgresLogicalHub). Positions are commit end LSNs; a change's id is `<commit end LSN>:<seq>`,
 * stable across re-reads. Snapshots and current rows come from the table like the trigger mode's.
 */
export class PostgresLogicalSource implements CaptureSource {
  private readonly catalog: PostgresTableCatalog;
  private readonly feed: LogicalFeed;
  private readonly entity: string;

  constructor(private readonly pool: Pool, private readonly hub: PostgresLogicalHub, readonly table: TableConfig) {
    this.catalog = new PostgresTableCatalog(pool, table);
    this.feed = hub.register(table);
    this.entity = `${table.system}.${table.schema}.${table.name}`;
  }

  /** The current WAL position, once the slot exists: everything committed after this call is streamed. */
  async startPosition(): Promise<string> {
    await this.hub.ensureSlot();
    return formatLsn(await this.hub.currentLsn());
  }

  async readChanges(position: string, limit: number): Promise<CaptureBatch> {
    const from = parseLsn(position);
    this.hub.reading(this.feed);
    await this.hub.ensureRunning();
    const page = this.hub.read(this.feed, from, limit);
    const items: Item[] = page.txns.flatMap((txn) => txn.changes.map((change) => ({ txn, change })));
    const kinds = await this.catalog.columnKinds();
    const { changes, rejected } = await decodeChanges(
      this.table,
      items,
      (item) => this.decode(item, kinds),
      (item) => ({ changeId: changeId(item), txId: String(item.txn.xid), key: bestEffortKey(this.table, item.change.after?.values, item.change.before?.values) }),
    );
    return { changes, rejected, next: formatLsn(page.next), full: page.full };
  }

  /** The runner published and saved everything before `position`: the slot may release it. */
  acknowledge(position: string): void {
    this.hub.acknowledge(this.feed, parseLsn(position));
  }

  release(): void {
    this.hub.release(this.feed);
  }

  onChanges(listener: () => void): void {
    this.hub.onChanges(this.feed, listener);
  }

  private async decode(item: Item, kinds: Awaited<ReturnType<PostgresTableCatalog['columnKinds']>>): Promise<CapturedChange> {
    const { txn, change } = item;
    const image = async (tuple: PgTuple | null): Promise<Row | null> => (tuple ? this.catalog.normalise(jsonLikeRow(tuple.values, kinds)) : null);
    let after = await image(change.after);
    if (after && change.after && change.after.unchanged.length > 0) {
      // An unchanged TOASTed value is not resent: take it from the old image (REPLICA IDENTITY FULL) or the table now.
      const old = change.before && !change.beforeIsKey ? await image(change.before) : await this.catalog.currentRow(after);
      for (const column of change.after.unchanged) after = { ...after, [column]: old?.[column] ?? null };
    }
    return {
      op: change.op,
      before: await image(change.before),
      after,
      changeId: changeId(item),
      committedAt: txn.commitTime.toISOString(),
      txId: String(txn.xid),
      origin: change.origin,
    };
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

  /** Missing columns, or a replica identity whose old images would not carry the configured key. */
  async checkSchema(): Promise<SchemaProblem | undefined> {
    const problem = await this.catalog.checkSchema();
    if (problem) return problem;
    const res = await this.pool.query<{ ident: string; identity_columns: string[] | null }>(pgReplicaIdentityQuery, [this.catalog.qualifiedName]);
    const message = identityProblem(this.entity, this.table.key, res.rows[0]);
    return message ? { message } : undefined;
  }

  /** Transactions received for this table and not yet read past `position`. */
  backlog(position: string): Promise<number> {
    return Promise.resolve(this.hub.unread(this.feed, parseLsn(position)));
  }

  /** Nothing to purge: the slot's flush position releases WAL. */
  purge(): Promise<number> {
    return Promise.resolve(0);
  }

  /**
   * The slot must still hold every change after `position`: it is missing, or its confirmed
   * position is past ours (it was dropped and re-created), and then changes may have been lost.
   */
  async positionProblem(position: string): Promise<string | undefined> {
    let pos: bigint;
    try {
      pos = parseLsn(position);
    } catch (err) {
      return `saved position is not a logical-decoding position: ${(err as Error).message}`;
    }
    const status = await this.hub.slotStatus();
    if (!status.exists) return `replication slot ${status.slot} does not exist (dropped?): changes after ${position} may be lost`;
    if (status.walStatus === 'lost') return `replication slot ${status.slot} lost its WAL (max_slot_wal_keep_size): changes after ${position} are gone`;
    if (status.confirmedFlush !== null && status.confirmedFlush > pos) {
      return `replication slot ${status.slot} starts at ${formatLsn(status.confirmedFlush)}, after the saved position ${position}: it was re-created, changes in between may be lost`;
    }
    return undefined;
  }

  async replicationLag(): Promise<ReplicationLag> {
    const status = await this.hub.slotStatus();
    return { slot: status.slot, bytes: status.lagBytes, seconds: this.hub.lagSeconds(), retainedBytes: status.retainedBytes, safeBytes: status.safeWalBytes, walStatus: status.walStatus };
  }
}

function changeId(item: Item): string {
  return `${formatLsn(item.txn.end)}:${item.change.seq}`;
}
