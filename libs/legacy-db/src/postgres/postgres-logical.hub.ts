import { Client, type Pool, type PoolConfig } from 'pg';
import type { SystemConfig, TableConfig } from '@sync/config';
import type { CaptureOp } from '../core/capture-source.interface';
import {
  decodePgOutput,
  decodeStreamFrame,
  formatLsn,
  parseLsn,
  standbyStatusUpdate,
  type PgOutputMessage,
  type PgRelation,
  type PgTuple,
} from './pgoutput.decoder';
import { logicalNames } from './postgres-logical.ddl';

/** The transaction-local marker the write-back emits (pg_logical_emit_message) with its origin. */
export const ORIGIN_MESSAGE_PREFIX = 'sync.origin';

/** One row change of a decoded transaction, values still PostgreSQL text. */
export interface LogicalRowChange {
  readonly op: CaptureOp;
  /** Old image: the full row (REPLICA IDENTITY FULL), its identity columns (`beforeIsKey`), or null. */
  readonly before: PgTuple | null;
  readonly beforeIsKey: boolean;
  readonly after: PgTuple | null;
  /** The write-back's origin marker in force when the row was written; null for any other writer. */
  readonly origin: string | null;
  /** Position of the change within its transaction (0-based): with the commit LSN, its unique id. */
  readonly seq: number;
}

/** The changes one committed transaction made to one table. */
export interface LogicalTxn {
  /** End LSN of the commit record: a position past this transaction. */
  readonly end: bigint;
  readonly xid: number;
  readonly commitTime: Date;
  readonly changes: readonly LogicalRowChange[];
}

export interface SlotStatus {
  readonly slot: string;
  readonly exists: boolean;
  readonly confirmedFlush: bigint | null;
  /** Bytes of WAL written since the slot's confirmed position (what a restart would re-read). */
  readonly lagBytes: number;
  /** Bytes of WAL the slot keeps on the server. */
  readonly retainedBytes: number;
  readonly walStatus: string | null;
  /** Bytes that can still be written before the slot is invalidated; null when unlimited. */
  readonly safeWalBytes: number | null;
}

/** A table's share of the stream: its queued transactions and what its runner acknowledged. */
class Feed {
  queue: LogicalTxn[] = [];
  queued = 0;
  /** End LSN of the last transaction queued; a repeat (after a rewind) at or below it is dropped. */
  lastQueued = 0n;
  /** Everything up to here is published and its position saved; undefined until the runner says so. */
  acked: bigint | undefined;
  overflowed = false;
  /** Its loop stopped (lease moved): it holds nothing back and, once every feed is released, the stream ends. */
  released = false;
  /** When the table's loop last read: a queue read recently is waited for, an idle one is dropped when full. */
  lastReadAt = 0;
  readonly listeners: Array<() => void> = [];
  constructor(readonly table: TableConfig, readonly capacity: number) {}
}

interface OpenTxn {
  readonly xid: number;
  readonly commitTime: Date;
  origin: string | null;
  seq: number;
  readonly perFeed: Map<Feed, LogicalRowChange[]>;
}

const STATUS_EVERY_MS = 5_000;
/** A table read within this time is being read: a full queue pauses the stream instead of being dropped. */
const ACTIVE_READER_MS = 10_000;

/**
 * The logical replication stream of one system: one slot and one publication for all its tables
 * in `capture.mode: logical`, consumed over the replication protocol (pgoutput, proto 1) on a
 * dedicated connection, and split into one queue per table. Each table's capture source reads
 * its queue by position (the end LSN of the last transaction it published) and acknowledges what
 * it published and saved; the slot's flush position sent to the server is the lowest of those,
 * so PostgreSQL keeps every WAL record a table has not safely published (docs/legacy-import.md).
 * A full queue whose table is being read pauses the stream (backpressure) until it drains; the
 * queue of a table nobody reads (paused, snapshotting) is emptied instead and the stream is rewound
 * from the slot when that table reads again; the other tables drop the repeats.
 */
export class PostgresLogicalHub {
  readonly slot: string;
  readonly publication: string;
  private readonly feeds = new Map<string, Feed>();
  private relations = new Map<number, PgRelation>();
  private client: Client | undefined;
  private starting: Promise<void> | undefined;
  private failure: Error | undefined;
  private txn: OpenTxn | undefined;
  /** Every transaction committed at or before this LSN has been received. */
  private decodedThrough = 0n;
  /** The slot's confirmed position when the stream (re)started. */
  private streamStart = 0n;
  private flushed = 0n;
  /** Commit times of received transactions not yet flushed, for the slot's lag in seconds. */
  private pending: Array<{ end: bigint; time: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private paused = false;
  /** LSN at which this process had to create the slot (it was missing), if it did. */
  createdAt: bigint | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly config: PoolConfig,
    readonly system: SystemConfig,
    private readonly onError: (err: Error) => void,
    /** Smallest queue a table gets (changes); the default is for production, tests lower it. */
    private readonly minQueueCapacity = 50_000,
  ) {
    ({ slot: this.slot, publication: this.publication } = logicalNames(system));
  }

  register(table: TableConfig): Feed {
    const name = `${table.schema}.${table.name}`;
    let feed = this.feeds.get(name);
    if (feed?.released) {
      // Taken over again: start clean, from what the slot and the saved position say.
      this.feeds.delete(name);
      feed = undefined;
    }
    if (!feed) {
      feed = new Feed(table, Math.max(this.minQueueCapacity, table.capture.batchSize * 20));
      this.feeds.set(name, feed);
    }
    return feed;
  }

  /**
   * The table's loop stopped. When no feed of the system is captured any more, the stream ends and
   * the slot is free: another replica that took the system's lease over attaches to it and resumes
   * from the slot's confirmed position (nothing past what every table acknowledged).
   */
  release(feed: Feed): void {
    feed.released = true;
    feed.queue = [];
    feed.queued = 0;
    feed.listeners.length = 0;
    if ([...this.feeds.values()].every((f) => f.released)) this.stopStream(undefined);
  }

  /** The table's loop is about to read: from now on a full queue of it pauses the stream rather than being dropped. */
  reading(feed: Feed): void {
    feed.lastReadAt = Date.now();
  }

  onChanges(feed: Feed, listener: () => void): void {
    feed.listeners.push(listener);
  }

  /** The slot exists (created at the current WAL position when missing) and the stream runs. */
  async ensureRunning(): Promise<void> {
    if (this.closed) throw new Error(`${this.system.name}: logical capture is closing`);
    if (this.client && !this.failure) return;
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Creates the slot when it does not exist; returns the LSN it was created at, undefined when it existed. */
  async ensureSlot(): Promise<bigint | undefined> {
    const found = await this.pool.query<{ plugin: string }>('SELECT plugin FROM pg_replication_slots WHERE slot_name = $1', [this.slot]);
    if (found.rows[0]) {
      if (found.rows[0].plugin !== 'pgoutput') throw new Error(`replication slot ${this.slot} uses plugin ${found.rows[0].plugin}, not pgoutput: drop it or rename the system`);
      return undefined;
    }
    const created = await this.pool.query<{ lsn: string }>("SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')", [this.slot]);
    this.createdAt = parseLsn(created.rows[0]!.lsn);
    return this.createdAt;
  }

  async currentLsn(): Promise<bigint> {
    return parseLsn((await this.pool.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn);
  }

  async slotStatus(): Promise<SlotStatus> {
    const res = await this.pool.query<{ confirmed: string | null; lag: string | null; retained: string | null; wal_status: string | null; safe: string | null }>(
      `SELECT confirmed_flush_lsn::text AS confirmed,
              (pg_current_wal_lsn() - confirmed_flush_lsn)::text AS lag,
              (pg_current_wal_lsn() - restart_lsn)::text AS retained,
              wal_status, safe_wal_size::text AS safe
         FROM pg_replication_slots WHERE slot_name = $1`,
      [this.slot],
    );
    const r = res.rows[0];
    if (!r) return { slot: this.slot, exists: false, confirmedFlush: null, lagBytes: 0, retainedBytes: 0, walStatus: null, safeWalBytes: null };
    return {
      slot: this.slot,
      exists: true,
      confirmedFlush: r.confirmed ? parseLsn(r.confirmed) : null,
      lagBytes: Number(r.lag ?? 0),
      retainedBytes: Number(r.retained ?? 0),
      walStatus: r.wal_status,
      safeWalBytes: r.safe === null ? null : Number(r.safe),
    };
  }

  /** Seconds since the commit of the oldest transaction received but not yet flushed to the slot; 0 when none. */
  lagSeconds(now = Date.now()): number {
    const first = this.pending[0];
    return first ? Math.max(0, (now - first.time) / 1000) : 0;
  }

  /**
   * The transactions of `feed` after `position`: whole transactions, at least one when there is
   * one, then up to `limit` changes. `next` is past them, or, when the queue is drained, the
   * position every transaction received so far is past.
   */
  read(feed: Feed, position: bigint, limit: number): { txns: LogicalTxn[]; next: bigint; full: boolean } {
    feed.lastReadAt = Date.now();
    if (feed.overflowed) {
      this.rewind(feed, position);
      return { txns: [], next: position, full: false };
    }
    // Saved before the slot's start: the slot was re-created, and positionProblem says so.
    if (position < this.streamStart) return { txns: [], next: position, full: false };
    while (feed.queue.length > 0 && feed.queue[0]!.end <= position) feed.queued -= feed.queue.shift()!.changes.length;
    const txns: LogicalTxn[] = [];
    let count = 0;
    for (const t of feed.queue) {
      if (txns.length > 0 && count + t.changes.length > limit) break;
      txns.push(t);
      count += t.changes.length;
    }
    this.relieve();
    const drained = txns.length === feed.queue.length;
    const last = txns[txns.length - 1];
    const next = drained ? maxLsn(position, last?.end ?? 0n, this.decodedThrough) : last!.end;
    return { txns, next, full: !drained };
  }

  /** Changes received for `feed` after `position` and not yet read past it (no side effects). */
  unread(feed: Feed, position: bigint): number {
    return feed.queue.reduce((n, t) => (t.end > position ? n + t.changes.length : n), 0);
  }

  /** The runner published and saved everything of `feed` up to `position`: the slot may move to the lowest such position. */
  acknowledge(feed: Feed, position: bigint): void {
    if (feed.acked === undefined || position > feed.acked) feed.acked = position;
    let low: bigint | undefined;
    for (const f of this.feeds.values()) {
      if (f.released) continue;
      if (f.acked === undefined) return;
      if (low === undefined || f.acked < low) low = f.acked;
    }
    if (low !== undefined && low > this.flushed) {
      this.flushed = low;
      while (this.pending.length > 0 && this.pending[0]!.end <= low) this.pending.shift();
      this.sendStatus();
    }
  }

  /**
   * Resumes a paused stream once no queue is over its capacity; a full queue whose table stopped
   * reading is emptied (it re-reads from the slot later) rather than holding up the others.
   */
  private relieve(now = Date.now()): void {
    if (!this.paused) return;
    let full = false;
    for (const f of this.feeds.values()) {
      if (f.queued <= f.capacity) continue;
      if (now - f.lastReadAt >= ACTIVE_READER_MS) this.overflow(f);
      else full = true;
    }
    if (full) return;
    this.paused = false;
    this.socket()?.resume();
  }

  private overflow(feed: Feed): void {
    feed.queue = [];
    feed.queued = 0;
    feed.overflowed = true;
  }

  private socket(): { pause(): void; resume(): void } | undefined {
    return (this.client as unknown as { connection?: { stream?: { pause(): void; resume(): void } } } | undefined)?.connection?.stream;
  }

  private rewind(feed: Feed, position: bigint): void {
    feed.overflowed = false;
    feed.lastQueued = position;
    this.stopStream(undefined);
  }

  private async start(): Promise<void> {
    this.stopStream(undefined);
    const pub = await this.pool.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [this.publication]);
    if (pub.rowCount === 0) throw new Error(`publication ${this.publication} does not exist in system ${this.system.name}: run sync-ctl schema --apply`);
    await this.ensureSlot();
    const status = await this.slotStatus();
    this.streamStart = status.confirmedFlush ?? 0n;
    this.decodedThrough = this.streamStart;
    if (this.flushed < this.streamStart) this.flushed = this.streamStart;
    this.relations = new Map();
    this.txn = undefined;
    const client = new Client({ ...this.config, application_name: 'legacy-sync-logical', replication: 'database' } as PoolConfig);
    // Handlers of a stream that was since replaced must not touch the new one.
    const fail = (err: Error): void => {
      if (this.client === client) this.stopStream(err);
    };
    client.on('error', fail);
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
    this.failure = undefined;
    // pg exposes the CopyBoth stream only on its connection object.
    const connection = (client as unknown as { connection: ReplicationConnection }).connection;
    connection.on('copyData', (msg: { chunk: Buffer }) => {
      if (this.client !== client) return;
      try {
        this.onFrame(msg.chunk);
      } catch (err) {
        fail(err as Error);
      }
    });
    await new Promise<void>((resolve, reject) => {
      connection.once('replicationStart', () => resolve());
      client
        .query(`START_REPLICATION SLOT "${this.slot}" LOGICAL ${formatLsn(this.streamStart)} (proto_version '1', publication_names '"${this.publication}"', messages 'true')`)
        .then(
          () => fail(new Error(`replication stream of slot ${this.slot} ended`)),
          (err: Error) => {
            reject(err);
            fail(err);
          },
        );
    });
    this.timer = setInterval(() => {
      this.relieve();
      this.sendStatus();
    }, STATUS_EVERY_MS);
    this.timer.unref();
  }

  private stopStream(err: Error | undefined): void {
    if (err && this.client) this.onError(err);
    this.failure = err;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    this.txn = undefined;
    this.paused = false;
    if (client) {
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      client.end().catch(() => undefined);
    }
  }

  private sendStatus(replyRequested = false): void {
    const connection = this.client && (this.client as unknown as { connection: ReplicationConnection }).connection;
    if (!connection || this.flushed === 0n) return;
    connection.sendCopyFromChunk(standbyStatusUpdate(this.flushed, Date.now(), replyRequested));
  }

  private onFrame(chunk: Buffer): void {
    const frame = decodeStreamFrame(chunk);
    if (!frame) return;
    if (frame.kind === 'keepalive') {
      // The sender has decoded up to walEnd: with no transaction open here, every commit before it was sent.
      if (!this.txn && frame.walEnd > this.decodedThrough) this.decodedThrough = frame.walEnd;
      if (frame.replyRequested) this.sendStatus();
      return;
    }
    this.onMessage(decodePgOutput(frame.payload, this.relations));
  }

  private onMessage(msg: PgOutputMessage): void {
    switch (msg.tag) {
      case 'begin':
        this.txn = { xid: msg.xid, commitTime: msg.commitTime, origin: null, seq: 0, perFeed: new Map() };
        return;
      case 'relation':
        this.relations.set(msg.relation.oid, msg.relation);
        return;
      case 'message':
        if (this.txn && msg.transactional && msg.prefix === ORIGIN_MESSAGE_PREFIX) this.txn.origin = msg.content === '' ? null : msg.content;
        return;
      case 'insert':
        this.add(msg.relationOid, { op: 'c', before: null, beforeIsKey: false, after: msg.after });
        return;
      case 'update':
        this.add(msg.relationOid, { op: 'u', before: msg.old, beforeIsKey: msg.oldIsKey, after: msg.after });
        return;
      case 'delete':
        this.add(msg.relationOid, { op: 'd', before: msg.old, beforeIsKey: msg.oldIsKey, after: null });
        return;
      case 'commit':
        this.commit(msg.endLsn);
        return;
      case 'origin':
      case 'type':
      case 'truncate':
        return;
      default: {
        const never: never = msg;
        return never;
      }
    }
  }

  private add(relationOid: number, change: Omit<LogicalRowChange, 'origin' | 'seq'>): void {
    const txn = this.txn;
    const rel = this.relations.get(relationOid);
    if (!txn || !rel) return;
    const seq = txn.seq++;
    const feed = this.feeds.get(`${rel.schema}.${rel.name}`);
    if (!feed) return;
    let list = txn.perFeed.get(feed);
    if (!list) txn.perFeed.set(feed, (list = []));
    // A key tuple sends the identity columns only (the others as NULL): keep just those.
    const before = change.before && change.beforeIsKey ? keyOnly(change.before, rel) : change.before;
    list.push({ ...change, before, origin: txn.origin, seq });
  }

  private commit(end: bigint): void {
    const txn = this.txn;
    this.txn = undefined;
    if (!txn) return;
    let touched = false;
    for (const [feed, changes] of txn.perFeed) {
      if (end <= feed.lastQueued || feed.overflowed) continue;
      feed.lastQueued = end;
      if (feed.queued + changes.length > feed.capacity && feed.queue.length > 0) {
        if (Date.now() - feed.lastReadAt >= ACTIVE_READER_MS) {
          // Nobody reads this table now (paused, snapshotting): forget, re-read from the slot later.
          this.overflow(feed);
          continue;
        }
        // Its loop is reading: stop taking WAL until it caught up (relieve resumes).
        if (!this.paused) {
          this.paused = true;
          this.socket()?.pause();
        }
      }
      feed.queue.push({ end, xid: txn.xid, commitTime: txn.commitTime, changes });
      feed.queued += changes.length;
      touched = true;
      for (const listener of feed.listeners) listener();
    }
    if (touched && end > this.flushed) this.pending.push({ end, time: txn.commitTime.getTime() });
    if (end > this.decodedThrough) this.decodedThrough = end;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopStream(undefined);
    await this.starting?.catch(() => undefined);
  }
}

interface ReplicationConnection {
  on(event: 'copyData', listener: (msg: { chunk: Buffer }) => void): void;
  once(event: 'replicationStart', listener: () => void): void;
  sendCopyFromChunk(chunk: Buffer): void;
}

function keyOnly(tuple: PgTuple, rel: PgRelation): PgTuple {
  const values: Record<string, string | null> = {};
  for (const c of rel.columns) if (c.key) values[c.name] = tuple.values[c.name] ?? null;
  return { values, unchanged: [] };
}

function maxLsn(...lsns: bigint[]): bigint {
  return lsns.reduce((a, b) => (b > a ? b : a));
}

export type LogicalFeed = Feed;
