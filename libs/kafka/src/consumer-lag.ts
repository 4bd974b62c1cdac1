import type { Admin } from 'kafkajs';
import type { KafkaClientPort } from './kafka-client.port';
import { errorMessage } from '@sync/errors';
import type { LogSink } from './kafka.interface';

/** Lag of one topic-partition this member owns, for its group. */
export interface ConsumerLagSample {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** Log-end offset minus the group's committed offset (0 when caught up). */
  readonly messages: number;
  /**
   * An upper bound on the age of the oldest message not yet consumed: now minus the later of the
   * last consumed message's timestamp and the last time the partition was seen caught up; 0 when
   * caught up; undefined while neither is known (a backlog that was there before this member).
   */
  readonly seconds: number | undefined;
}

/** What is known of one partition; offsets only move forward, so every update keeps the maximum. */
export interface PartitionLagState {
  /** Log-end offset (high watermark) as last seen, and when (local ms) it was read. */
  end?: bigint;
  endReadAt?: number;
  /** Log-start offset (the oldest message still kept). */
  start?: bigint;
  /** The group's committed offset: the next message to read. */
  committed?: bigint;
  /** Timestamp (ms) of the last message committed. */
  lastConsumedAt?: number;
  /** When (local ms) the log end was read that the committed offset has since reached. */
  caughtUpAt?: number;
}

/**
 * Messages between the group's position and the log end. Without a committed offset, a consumer
 * starting from the beginning reads from the log start (one starting at the end has no defined lag
 * yet). A committed offset below the log start counts from the log start: those messages are gone.
 */
export function lagMessages(state: PartitionLagState, fromBeginning: boolean): number | undefined {
  if (state.end === undefined) return undefined;
  let position = state.committed ?? (fromBeginning ? state.start : undefined);
  if (position === undefined) return undefined;
  if (state.start !== undefined && position < state.start) position = state.start;
  const lag = state.end - position;
  return lag > 0n ? Number(lag) : 0;
}

/** See ConsumerLagSample.seconds. */
export function lagSeconds(state: PartitionLagState, lag: number, now: number): number | undefined {
  if (lag === 0) return 0;
  const known = [state.lastConsumedAt, state.caughtUpAt].filter((t): t is number => t !== undefined && Number.isFinite(t));
  if (known.length === 0) return undefined;
  return Math.max(0, now - Math.max(...known)) / 1000;
}

/** Records that the log end read at `readAt` has been reached, when it has. */
function settle(state: PartitionLagState): void {
  if (state.end !== undefined && state.committed !== undefined && state.committed >= state.end && state.endReadAt !== undefined) {
    state.caughtUpAt = Math.max(state.caughtUpAt ?? 0, state.endReadAt);
  }
}

function maxOf(current: bigint | undefined, next: bigint): bigint {
  return current === undefined || next > current ? next : current;
}

/** A newer log-end offset (from a fetched batch or an offset read) at local time `readAt`. */
export function observeEnd(state: PartitionLagState, end: bigint, readAt: number): void {
  if (state.end === undefined || end >= state.end) {
    state.end = end;
    state.endReadAt = Math.max(state.endReadAt ?? 0, readAt);
  }
  settle(state);
}

/** A committed offset (the next to read) and, when known, the timestamp of the message before it. */
export function observeCommit(state: PartitionLagState, committed: bigint, lastTimestamp: number | undefined): void {
  const before = state.committed;
  state.committed = maxOf(state.committed, committed);
  if (lastTimestamp !== undefined && Number.isFinite(lastTimestamp) && (before === undefined || committed >= before)) {
    state.lastConsumedAt = Math.max(state.lastConsumedAt ?? 0, lastTimestamp);
  }
  settle(state);
}

/** Log start and end offsets of one partition, and the committed offset of a group, as text. */
export interface LogOffsets {
  readonly topic: string;
  readonly partition: number;
  readonly start: string;
  readonly end: string;
}

export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  /** '-1' when the group has committed nothing for it. */
  readonly offset: string;
}

/**
 * Reads log and group offsets through one admin client, shared by the consumers of a connection:
 * connected on first use, disconnected when the last consumer using it lets go.
 */
export class GroupOffsetReader {
  private admin: Admin | undefined;
  private users = 0;

  constructor(private readonly kafka: KafkaClientPort) {}

  acquire(): void {
    this.users++;
  }

  async release(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    if (this.users > 0 || this.admin === undefined) return;
    const admin = this.admin;
    this.admin = undefined;
    await admin.disconnect().catch(() => undefined);
  }

  async logOffsets(topics: readonly string[]): Promise<LogOffsets[]> {
    const admin = await this.connected();
    const perTopic = await Promise.all(
      topics.map(async (topic) => (await admin.fetchTopicOffsets(topic)).map((p) => ({ topic, partition: p.partition, start: p.low, end: p.high }))),
    );
    return perTopic.flat();
  }

  async committedOffsets(groupId: string, topics: readonly string[]): Promise<CommittedOffset[]> {
    const admin = await this.connected();
    const res = await admin.fetchOffsets({ groupId, topics: [...topics] });
    return res.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset })));
  }

  private async connected(): Promise<Admin> {
    if (this.admin === undefined) {
      const admin = this.kafka.admin();
      await admin.connect();
      // A release while connecting wins: this admin is not kept.
      if (this.users === 0) {
        await admin.disconnect().catch(() => undefined);
        throw new Error('offset reader released');
      }
      this.admin ??= admin;
      if (this.admin !== admin) await admin.disconnect().catch(() => undefined);
    }
    return this.admin;
  }
}

export interface ConsumerLagOptions {
  readonly groupId: string;
  readonly fromBeginning: boolean;
  /** How often committed and log-end offsets are read; undefined: never (only fetched batches update it). */
  readonly refreshMs: number | undefined;
  readonly log: LogSink;
}

function partitionId(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * Consumer-group lag of the partitions one member owns. Fetched batches carry the log end for free
 * (kafkajs' highWatermark) and commits move the position, so busy partitions are current without
 * a request; a periodic read of the group's committed offsets and the log ends covers idle and
 * held partitions. A failed read is logged (warn once, then debug) and the figures keep their
 * last values; nothing here affects consumption or readiness.
 */
export class ConsumerLagMonitor {
  private readonly states = new Map<string, PartitionLagState>();
  /** Messages (offset, timestamp) of the last batch per partition, to timestamp a commit. */
  private readonly lastBatch = new Map<string, ReadonlyArray<{ readonly offset: string; readonly timestamp: string }>>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private failing = false;
  private started = false;
  private closed = false;

  constructor(
    private readonly reader: GroupOffsetReader | undefined,
    private readonly assignment: () => ReadonlyMap<string, readonly number[]>,
    private readonly options: ConsumerLagOptions,
  ) {}

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    const every = this.options.refreshMs;
    if (this.reader === undefined || every === undefined) return;
    this.reader.acquire();
    this.timer = setInterval(() => this.refreshSoon(), every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.states.clear();
    this.lastBatch.clear();
    // Not waiting for a read in flight (it can take kafkajs' retries): releasing ends it.
    if (this.started && this.reader !== undefined && this.options.refreshMs !== undefined) await this.reader.release();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A batch was fetched: its high watermark is the partition's log end at that moment. */
  fetched(topic: string, partition: number, highWatermark: string, messages: ReadonlyArray<{ readonly offset: string; readonly timestamp: string }>): void {
    if (this.closed) return;
    const id = partitionId(topic, partition);
    observeEnd(this.state(id), BigInt(highWatermark), Date.now());
    if (messages.length > 0) this.lastBatch.set(id, messages);
  }

  /** The group committed `next` (the offset after the last handled message). */
  committed(topic: string, partition: number, next: string): void {
    if (this.closed) return;
    const id = partitionId(topic, partition);
    const last = (BigInt(next) - 1n).toString();
    const message = this.lastBatch.get(id)?.find((m) => m.offset === last);
    observeCommit(this.state(id), BigInt(next), message === undefined ? undefined : Number(message.timestamp));
  }

  /** Runs a read of the offsets now, or right after the one in flight (the assignment changed ...). */
  refreshSoon(): void {
    if (this.closed || !this.started || this.reader === undefined || this.options.refreshMs === undefined) return;
    if (this.refreshing) {
      this.again = true;
      return;
    }
    this.refreshing = this.refresh().finally(() => {
      this.refreshing = undefined;
      if (this.again) {
        this.again = false;
        this.refreshSoon();
      }
    });
  }

  /** Lag of every owned partition whose figures are known. */
  samples(now = Date.now()): ConsumerLagSample[] {
    if (this.closed) return [];
    const out: ConsumerLagSample[] = [];
    for (const [topic, partitions] of this.assignment()) {
      for (const partition of partitions) {
        const state = this.states.get(partitionId(topic, partition));
        if (state === undefined) continue;
        const messages = lagMessages(state, this.options.fromBeginning);
        if (messages === undefined) continue;
        out.push({ group: this.options.groupId, topic, partition, messages, seconds: lagSeconds(state, messages, now) });
      }
    }
    return out;
  }

  private state(id: string): PartitionLagState {
    let state = this.states.get(id);
    if (state === undefined) {
      state = {};
      this.states.set(id, state);
    }
    return state;
  }

  private async refresh(): Promise<void> {
    const reader = this.reader;
    if (reader === undefined) return;
    const owned = new Set<string>();
    for (const [topic, partitions] of this.assignment()) for (const p of partitions) owned.add(partitionId(topic, p));
    // Partitions handed to another member: their owner reports them now.
    for (const id of this.states.keys()) {
      if (!owned.has(id)) {
        this.states.delete(id);
        this.lastBatch.delete(id);
      }
    }
    const topics = [...this.assignment().keys()];
    if (topics.length === 0) return;
    const readAt = Date.now();
    try {
      const [ends, committed] = await Promise.all([reader.logOffsets(topics), reader.committedOffsets(this.options.groupId, topics)]);
      if (this.closed) return;
      for (const c of committed) {
        const id = partitionId(c.topic, c.partition);
        if (!owned.has(id) || BigInt(c.offset) < 0n) continue;
        observeCommit(this.state(id), BigInt(c.offset), undefined);
      }
      for (const e of ends) {
        const id = partitionId(e.topic, e.partition);
        if (!owned.has(id)) continue;
        const state = this.state(id);
        state.start = maxOf(state.start, BigInt(e.start));
        observeEnd(state, BigInt(e.end), readAt);
      }
      if (this.failing) this.options.log.info({ groupId: this.options.groupId }, 'consumer lag: reading offsets works again');
      this.failing = false;
    } catch (err) {
      if (this.closed) return;
      const entry = { groupId: this.options.groupId, err: errorMessage(err) };
      if (this.failing) this.options.log.debug(entry, 'consumer lag: reading offsets failed again; the lag figures keep their last values');
      else this.options.log.warn(entry, 'consumer lag: reading offsets failed; the lag figures keep their last values');
      this.failing = true;
    }
  }
}
