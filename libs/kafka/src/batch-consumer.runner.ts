import type { Batch, Consumer, ConsumerRunConfig, IHeaders, KafkaMessage, Offsets } from 'kafkajs';
import type { KafkaClientPort } from './kafka-client.port';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from './backoff';
import { ConsumerLagMonitor, GroupOffsetReader, type ConsumerLagSample } from './consumer-lag';
import { deadLetterRecord } from './dead-letter';
import { EnvironmentError, errorKind, errorMessage, type ClassifiedKind } from '@sync/errors';
import type { InboundMessage, LogSink } from './kafka.interface';
import type { SyncProducer } from './sync-producer';
import { membershipSignal, PartitionRevokedError } from './group-membership';

export interface BatchContext {
  readonly topic: string;
  readonly partition: number;
  /** Tell the group this member is alive; call it during long work (it is also called on a timer). */
  heartbeat(): Promise<void>;
  /** Aborted when the runner is stopping: long waits should end early. */
  readonly signal: AbortSignal;
  /**
   * Call right before writing an effect (producing, committing a transaction): resolves when this
   * member still owns the partition, confirming it with the coordinator first when the last
   * confirmation is older than the heartbeat interval (a replica paused past its session timeout);
   * throws PartitionRevokedError otherwise, and the runner abandons the batch without committing.
   */
  confirmOwnership(): Promise<void>;
}

/**
 * A handler's answer when the rest of its batch must wait for something another partition will
 * bring: the first `handled` messages are done (committed); the others are fetched again, in order,
 * after `retryAfterMs`. Only this partition waits; the consumer goes on with the others.
 */
export interface BatchDeferral {
  readonly handled: number;
  readonly retryAfterMs: number;
}

/**
 * Processes messages of one topic-partition, all or nothing: resolving means every message was
 * handled (applied, skipped, parked ...), unless it returns a BatchDeferral. Throw to say it failed;
 * the error's kind decides what follows. Handlers must be idempotent: after a failure, messages are
 * offered again one by one.
 */
export type BatchHandler = (messages: readonly InboundMessage[], ctx: BatchContext) => Promise<void | BatchDeferral>;

export interface ConsumerHooks {
  onBatchDone?(topic: string, partition: number, count: number, durationMs: number): void;
  onRetry?(topic: string, kind: ClassifiedKind, attempt: number, err: unknown): void;
  onDeadLetter?(message: InboundMessage, kind: ClassifiedKind, err: unknown): void;
  /**
   * A partition is held (reason set: a schema problem, or its dead letter could not be written) or
   * released again (reason undefined). It is fetched again after `blockedRetryMs`.
   */
  onBlocked?(topic: string, partition: number, reason: string | undefined): void;
  /** Called when transient failures start (err set) and when processing recovers (err undefined). */
  onTransientState?(err: unknown | undefined): void;
  /** The kafkajs consumer stopped after an error; the runner starts it again. */
  onCrash?(err: unknown): void;
}

export interface BatchConsumerOptions {
  /** App name: dead letters go to `dlq.<app>`. */
  readonly app: string;
  readonly groupId: string;
  readonly topics: ReadonlyArray<string | RegExp>;
  readonly fromBeginning?: boolean;
  readonly handler: BatchHandler;
  /** Attempts for a message failing with an unknown error before it is dead-lettered (default 3). */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffOptions;
  /** Cap on the wait between retries of environment failures (default 15 s). */
  readonly transientMaxDelayMs?: number;
  /** How long a partition held by a schema problem or an unwritable dead letter waits before it is tried again (default 30 s). */
  readonly blockedRetryMs?: number;
  /** Attempts to write one dead letter before its partition is held (default 5). */
  readonly deadLetterAttempts?: number;
  /** Cap on a dead letter's value in bytes (DEAD_LETTER_MAX_BYTES by default); larger ones are cut, with dlq-truncated. */
  readonly deadLetterMaxBytes?: number;
  readonly heartbeatIntervalMs?: number;
  readonly sessionTimeoutMs?: number;
  readonly partitionsConsumedConcurrently?: number;
  readonly maxBytesPerPartition?: number;
  readonly hooks?: ConsumerHooks;
  readonly log: LogSink;
  /** How often the group's lag is read for idle and held partitions (default: never; fetched batches still update it). */
  readonly lagRefreshMs?: number;
}

/** Delay before starting a crashed consumer again: from 1 s, doubling, at most 30 s. */
const RESTART_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, jitter: 0.2 };

type Attempt = { status: 'ok'; deferral?: BatchDeferral } | { status: 'abandoned' } | { status: 'failed'; kind: ClassifiedKind; err: unknown };

/** What handling one message came to: done, stop here (stopping), or hold the partition (wait and fetch again). */
type OneResult = { status: 'done' } | { status: 'stop' } | { status: 'defer'; retryAfterMs: number; blocked?: string };

export interface BlockedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly reason: string;
  readonly since: number;
}

function headerMap(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  for (const name of Object.keys(headers)) {
    const raw = headers[name];
    const first = Array.isArray(raw) ? raw[0] : raw;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

export function toInboundMessage(topic: string, partition: number, m: KafkaMessage): InboundMessage {
  return { topic, partition, offset: m.offset, key: m.key ?? null, value: m.value ?? null, headers: headerMap(m.headers), timestamp: m.timestamp };
}

/** A PartitionRevokedError, possibly wrapped by the handler (as a cause). */
function isRevoked(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof PartitionRevokedError) return true;
  }
  return false;
}

function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

/**
 * Batch consumer on kafkajs `eachBatch` with explicit commits: offsets are committed only after
 * their messages were handled or dead-lettered. What a failure leads to is decided here, from its
 * kind (@sync/errors): environment failures wait and retry for as long as it takes (nothing is
 * skipped, nothing dead-lettered); data failures isolate the bad message and dead-letter it with the
 * reason in headers; unclassified ones are retried a bounded number of times first; schema failures
 * hold the partition with a status and try it again periodically.
 *
 * A crash of the kafkajs consumer (the broker gone for longer than kafkajs retries, or an error
 * kafkajs calls non-retriable, such as "Failed to find group coordinator" while a broker restarts,
 * after which kafkajs never restarts it: tulios/kafkajs#1630, #1445) is restarted here, with
 * backoff, for as long as the runner runs; topics held by pauseTopics stay held across it.
 */
export class BatchConsumerRunner {
  private readonly consumer: Consumer;
  private readonly runConfig: ConsumerRunConfig;
  private restartTimer: NodeJS.Timeout | undefined;
  private restarts = 0;
  private readonly stopping = new AbortController();
  private readonly assigned = new Map<string, number[]>();
  private joined = false;
  private running = false;
  private subscribed = false;
  /** Last sign of life of the fetch loop (fetch, join, batch work): what liveness reads (stalledMs). */
  private lastProgressAt = Date.now();
  private crashed: string | undefined;
  private failingSince: number | undefined;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffOptions;
  /** Topics held by pauseTopics: a deferral's timer must not resume them. */
  private readonly held = new Set<string>();
  private readonly deferTimers = new Set<NodeJS.Timeout>();
  /** Partitions held by a schema problem or an unwritable dead letter, by `topic/partition`. */
  private readonly blocked = new Map<string, BlockedPartition>();
  private readonly lagMonitor: ConsumerLagMonitor;
  /**
   * Group generations as this member saw them: one more on every join. A batch writes effects and
   * commits only in the generation it was fetched in, and not once the coordinator said that
   * generation is gone for this member (`lostGeneration`); in a generation that is rebalancing it
   * finishes what it has in hand and starts nothing new.
   */
  private generation = 0;
  private lostGeneration: number | undefined;
  private rebalancingGeneration: number | undefined;
  /** When the coordinator last confirmed this member (join, heartbeat, commit). */
  private lastConfirmedAt = 0;

  constructor(
    kafka: KafkaClientPort,
    private readonly dlqProducer: SyncProducer,
    private readonly options: BatchConsumerOptions,
    /** Shared by the consumers of one connection; one of its own otherwise. */
    offsetReader?: GroupOffsetReader,
  ) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
      // A fetch waits at most this long for data: it bounds both idle latency and how long a stop waits.
      maxWaitTimeInMs: 1_000,
      allowAutoTopicCreation: false,
      // Every crash is restarted by this runner (restartAfterCrash), never by kafkajs itself: kafkajs
      // forgets paused topics when it restarts, and does not restart after non-retriable errors.
      retry: { restartOnFailure: async () => false },
    });
    this.runConfig = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.processBatch(payload),
    };
    this.lagMonitor = new ConsumerLagMonitor(
      options.lagRefreshMs === undefined ? undefined : (offsetReader ?? new GroupOffsetReader(kafka)),
      () => this.assigned,
      { groupId: options.groupId, fromBeginning: options.fromBeginning ?? true, refreshMs: options.lagRefreshMs, log: options.log },
    );
    const ev = this.consumer.events;
    this.consumer.on(ev.FETCH, () => this.progress());
    this.consumer.on(ev.HEARTBEAT, () => (this.lastConfirmedAt = Date.now()));
    this.consumer.on(ev.REBALANCING, () => (this.rebalancingGeneration = this.generation));
    this.consumer.on(ev.GROUP_JOIN, (e) => {
      this.progress();
      this.generation++;
      this.lastConfirmedAt = Date.now();
      this.joined = true;
      this.crashed = undefined;
      this.restarts = 0;
      this.assigned.clear();
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) this.assigned.set(topic, partitions);
      this.lagMonitor.refreshSoon();
      this.options.log.info({ groupId: options.groupId, assignment: e.payload.memberAssignment }, 'consumer joined group');
    });
    this.consumer.on(ev.CRASH, (e) => {
      if (this.stopping.signal.aborted) return;
      this.crashed = errorMessage(e.payload.error);
      this.joined = false;
      this.options.hooks?.onCrash?.(e.payload.error);
      this.restartAfterCrash();
    });
    this.consumer.on(ev.STOP, () => this.assigned.clear());
  }

  /**
   * Connects, subscribes and starts the fetch loop. A start that fails (broker unreachable, a topic
   * that does not exist yet ...) does not throw: it is retried with backoff like a crash, for as
   * long as the runner runs, and problem() / stalledMs() report it meanwhile.
   */
  async start(): Promise<void> {
    if (this.running || this.stopping.signal.aborted) return;
    this.running = true;
    this.lastProgressAt = Date.now();
    try {
      await this.launch();
    } catch (err) {
      if (this.stopping.signal.aborted) return;
      this.crashed = `start failed: ${errorMessage(err)}`;
      this.options.hooks?.onCrash?.(err);
      this.restartAfterCrash();
    }
  }

  private async launch(): Promise<void> {
    await this.consumer.connect();
    if (!this.subscribed) {
      await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning ?? true });
      this.subscribed = true;
    }
    // stop() may have come while connecting: a consumer run after it would never be stopped.
    if (this.stopping.signal.aborted) return this.consumer.disconnect();
    await this.consumer.run(this.runConfig);
    if (this.held.size > 0 && !this.stopping.signal.aborted) this.consumer.pause([...this.held].map((topic) => ({ topic })));
    this.lagMonitor.start();
  }

  /**
   * Starts the crashed consumer again after a backoff (kafkajs has already disconnected it). A start
   * that fails crashes again and lands here again; joining the group ends the cycle.
   */
  private restartAfterCrash(): void {
    if (this.restartTimer !== undefined || this.stopping.signal.aborted) return;
    this.restarts++;
    const delayMs = backoffDelay(this.restarts, RESTART_BACKOFF);
    this.options.log.error({ groupId: this.options.groupId, err: this.crashed, restart: this.restarts, delayMs }, 'consumer crashed, starting it again');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping.signal.aborted) return;
      this.launch().catch((err: unknown) => {
          this.crashed = errorMessage(err);
          this.restartAfterCrash();
        });
    }, delayMs);
  }

  /** Stops fetching, lets the batch in hand finish and commit, then leaves the group. */
  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    this.running = false;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    for (const timer of this.deferTimers) clearTimeout(timer);
    this.deferTimers.clear();
    await this.consumer.disconnect();
    await this.lagMonitor.stop();
  }

  /**
   * Stops fetching these topics (all partitions) until resumed; committed offsets stay where they
   * are, so nothing is skipped. A batch already in hand is finished.
   */
  pauseTopics(topics: readonly string[]): void {
    for (const topic of topics) this.held.add(topic);
    if (topics.length > 0) this.whenRunning(() => this.consumer.pause(topics.map((topic) => ({ topic }))));
  }

  resumeTopics(topics: readonly string[]): void {
    // A wait while everything was held is no stall: liveness counts from the resume.
    if (this.stalledMs() === undefined) this.progress();
    for (const topic of topics) this.held.delete(topic);
    if (topics.length > 0) this.whenRunning(() => this.consumer.resume(topics.map((topic) => ({ topic }))));
  }

  /** kafkajs refuses pause/resume before its first run(); launch() applies `held` once it runs. */
  private whenRunning(change: () => void): void {
    try {
      change();
    } catch (err) {
      if (this.joined) throw err;
    }
  }

  /**
   * For how long the fetch loop has shown no sign of life (no fetch, no join, no batch work), or
   * undefined when none is expected: not started, stopping, or every topic held (entity paused).
   */
  stalledMs(now = Date.now()): number | undefined {
    if (!this.running || this.stopping.signal.aborted) return undefined;
    if (this.options.topics.every((t) => typeof t === 'string' && this.held.has(t))) return undefined;
    return Math.max(0, now - this.lastProgressAt);
  }

  private progress(): void {
    this.lastProgressAt = Date.now();
  }

  get groupId(): string {
    return this.options.groupId;
  }

  /** Partitions currently assigned to this member, per topic. */
  assignment(): ReadonlyMap<string, readonly number[]> {
    return this.assigned;
  }

  /** Lag of the partitions this member owns (none once stopped). */
  consumerLag(now = Date.now()): ConsumerLagSample[] {
    return this.lagMonitor.samples(now);
  }

  /** True once stop() has begun. */
  get isStopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Partitions held by a schema problem or an unwritable dead letter (each is tried again periodically). */
  blockedPartitions(): readonly BlockedPartition[] {
    return [...this.blocked.values()];
  }

  /** Why the runner is not healthy, or undefined when it is. */
  problem(now = Date.now()): string | undefined {
    if (this.crashed) return `consumer crashed (${this.crashed}); starting it again, attempt ${this.restarts}`;
    if (!this.running) return 'consumer is not running';
    // Joined but without partitions is fine (more replicas than partitions leaves some idle).
    if (!this.joined) return 'has not joined its group yet';
    if (this.failingSince !== undefined) return `processing has been failing transiently for ${Math.round((now - this.failingSince) / 1000)} s`;
    return undefined;
  }

  private async processBatch(payload: {
    batch: Batch;
    resolveOffset(offset: string): void;
    heartbeat(): Promise<void>;
    isRunning(): boolean;
    isStale(): boolean;
    pause(): () => void;
    commitOffsetsIfNecessary(offsets?: Offsets): Promise<void>;
  }): Promise<void> {
    const { batch } = payload;
    this.lagMonitor.fetched(batch.topic, batch.partition, batch.highWatermark, batch.messages);
    if (batch.messages.length === 0) return;
    if (this.held.has(batch.topic)) {
      // Fetched before a hold took effect (or by a consumer that was just started again): leave it
      // unresolved, so it is fetched again once the topic is resumed.
      this.consumer.pause([{ topic: batch.topic }]);
      return;
    }
    const generation = this.generation;
    // The coordinator dropped this member and kafkajs has not rejoined yet: not this member's work.
    if (this.lostGeneration === generation) return;
    const messages = batch.messages.map((m) => toInboundMessage(batch.topic, batch.partition, m));
    const ctx: BatchContext = {
      topic: batch.topic,
      partition: batch.partition,
      heartbeat: () =>
        payload.heartbeat().catch((err: unknown) => {
          this.noteMembership(err, generation, batch);
          throw err;
        }),
      signal: this.stopping.signal,
      confirmOwnership: () => this.confirmOwnership(payload, ctx, generation),
    };
    // Work goes on only while the partition is this member's and no rebalance waits for it.
    const alive = (): boolean => payload.isRunning() && !payload.isStale() && this.owns(generation) && this.rebalancingGeneration !== generation;
    const started = Date.now();
    this.progress();
    const timer = setInterval(() => {
      // A long batch (a slow or locked write) is work, not a stall.
      this.progress();
      payload.heartbeat().catch((err: unknown) => {
        this.options.log.debug({ err: errorMessage(err) }, 'heartbeat during batch failed');
        this.noteMembership(err, generation, batch);
      });
    }, this.options.heartbeatIntervalMs ?? 3_000);
    try {
      const outcome = await this.runWithTransientRetry(messages, ctx, alive);
      if (outcome.status === 'abandoned') return;
      if (outcome.status === 'failed' && outcome.kind === 'schema') {
        // A missing table or column concerns every message of the entity: hold it, try again later.
        return this.defer(payload, ctx, this.blockedRetryMs(), `schema: ${errorMessage(outcome.err)}`);
      }
      if (outcome.status === 'failed') {
        this.options.log.warn(
          { topic: batch.topic, partition: batch.partition, count: messages.length, kind: outcome.kind, err: errorMessage(outcome.err) },
          'batch failed, retrying its messages one by one',
        );
        // Isolate the bad message(s): good ones are applied, bad ones dead-lettered, order kept.
        for (const message of messages) {
          if (!alive()) return;
          // A batch of one has just had its first attempt: a data error is not tried a second time.
          const done = await this.processOne(message, ctx, alive, messages.length === 1 ? outcome : undefined);
          if (done.status === 'stop') return;
          if (done.status === 'defer') return this.defer(payload, ctx, done.retryAfterMs, done.blocked);
          payload.resolveOffset(message.offset);
          await this.commit(payload, batch.topic, batch.partition, message.offset, generation);
        }
      } else if (outcome.deferral !== undefined) {
        const handled = Math.max(0, Math.min(outcome.deferral.handled, messages.length));
        if (handled > 0) {
          const last = messages[handled - 1]!;
          payload.resolveOffset(last.offset);
          await this.commit(payload, batch.topic, batch.partition, last.offset, generation);
        }
        if (handled < messages.length) return this.defer(payload, ctx, outcome.deferral.retryAfterMs);
      } else {
        const last = messages[messages.length - 1]!;
        payload.resolveOffset(last.offset);
        await this.commit(payload, batch.topic, batch.partition, last.offset, generation);
      }
      this.setBlocked(batch.topic, batch.partition, undefined);
      this.options.hooks?.onBatchDone?.(batch.topic, batch.partition, messages.length, Date.now() - started);
    } finally {
      clearInterval(timer);
    }
  }

  private blockedRetryMs(): number {
    return this.options.blockedRetryMs ?? 30_000;
  }

  /** Runs the handler, retrying transient failures until they pass or the runner stops. */
  private async runWithTransientRetry(
    messages: readonly InboundMessage[],
    ctx: BatchContext,
    alive: () => boolean,
  ): Promise<Attempt> {
    for (let attempt = 1; ; attempt++) {
      try {
        const deferral = await this.options.handler(messages, ctx);
        this.setTransient(undefined);
        return deferral ? { status: 'ok', deferral } : { status: 'ok' };
      } catch (err) {
        // The partition is another member's now: its owner processes the batch from the last commit.
        if (isRevoked(err)) {
          this.options.log.warn({ topic: ctx.topic, partition: ctx.partition, err: errorMessage(err) }, 'batch abandoned: partition revoked');
          return { status: 'abandoned' };
        }
        // A failure during stop is the stop's doing (pool closing, aborted wait): neither committed nor dead-lettered.
        if (this.stopping.signal.aborted) return { status: 'abandoned' };
        const kind = errorKind(err);
        if (kind !== 'environment') return { status: 'failed', kind, err };
        this.setTransient(err);
        this.options.hooks?.onRetry?.(ctx.topic, kind, attempt, err);
        const delay = Math.min(backoffDelay(attempt, this.backoff), this.options.transientMaxDelayMs ?? 15_000);
        this.options.log.warn({ topic: ctx.topic, partition: ctx.partition, attempt, delayMs: delay, err: errorMessage(err) }, 'transient failure, will retry');
        await sleep(delay, this.stopping.signal);
        if (!alive()) return { status: 'abandoned' };
        await ctx.heartbeat().catch(() => undefined);
      }
    }
  }

  /**
   * Handles one message: environment failures wait (inside runWithTransientRetry), data failures
   * are dead-lettered at once, unclassified ones after `maxAttempts`, schema failures hold the
   * partition.
   */
  private async processOne(message: InboundMessage, ctx: BatchContext, alive: () => boolean, firstAttempt?: Attempt): Promise<OneResult> {
    for (let attempt = 1; ; attempt++) {
      const result = attempt === 1 && firstAttempt !== undefined ? firstAttempt : await this.runWithTransientRetry([message], ctx, alive);
      if (result.status === 'ok') {
        const deferral = result.deferral;
        return deferral !== undefined && deferral.handled < 1 ? { status: 'defer', retryAfterMs: deferral.retryAfterMs } : { status: 'done' };
      }
      if (result.status === 'abandoned') return { status: 'stop' };
      if (result.kind === 'schema') return { status: 'defer', retryAfterMs: this.blockedRetryMs(), blocked: `schema: ${errorMessage(result.err)}` };
      if (result.kind === 'data' || attempt >= this.maxAttempts) {
        return this.deadLetter(message, result.kind, result.err, attempt, alive);
      }
      this.options.hooks?.onRetry?.(ctx.topic, result.kind, attempt, result.err);
      await sleep(backoffDelay(attempt, this.backoff), this.stopping.signal);
      if (!alive()) return { status: 'stop' };
    }
  }

  /**
   * Writes the dead letter, a bounded number of times: when the DLQ stays unwritable the message's
   * partition is held (nothing committed past it) and tried again later, with a status saying why.
   */
  private async deadLetter(message: InboundMessage, kind: ClassifiedKind, err: unknown, attempts: number, alive: () => boolean): Promise<OneResult> {
    const record = deadLetterRecord(this.options.app, message, kind, err, attempts, new Date(), { ...(this.options.deadLetterMaxBytes !== undefined ? { maxBytes: this.options.deadLetterMaxBytes } : {}) });
    const maxSends = this.options.deadLetterAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dlqProducer.send([record]);
        break;
      } catch (sendErr) {
        this.options.log.warn({ topic: message.topic, partition: message.partition, offset: message.offset, dlq: record.topic, attempt, err: errorMessage(sendErr) }, 'writing a dead letter failed');
        if (attempt >= maxSends) {
          return { status: 'defer', retryAfterMs: this.blockedRetryMs(), blocked: `dead letter for offset ${message.offset} could not be written to ${record.topic}: ${errorMessage(sendErr)}` };
        }
        await sleep(Math.min(backoffDelay(attempt, this.backoff), 15_000), this.stopping.signal);
        if (!alive()) return { status: 'stop' };
      }
    }
    this.options.log.warn(
      { topic: message.topic, partition: message.partition, offset: message.offset, kind, attempts, dlq: record.topic, err: errorMessage(err) },
      'message dead-lettered',
    );
    this.options.hooks?.onDeadLetter?.(message, kind, err);
    return { status: 'done' };
  }

  /**
   * Leaves the rest of the batch unresolved (kafkajs fetches again from the first unresolved offset)
   * and pauses this partition for `ms`; a topic held by pauseTopics stays held. With `blocked`, the
   * partition is reported as held for that reason until one of its batches completes.
   */
  private defer(payload: { pause(): () => void }, ctx: BatchContext, ms: number, blocked?: string): void {
    if (blocked !== undefined) {
      this.options.log.warn({ topic: ctx.topic, partition: ctx.partition, retryInMs: ms, reason: blocked }, 'partition held');
      this.setBlocked(ctx.topic, ctx.partition, blocked);
    }
    const resume = payload.pause();
    const timer = setTimeout(() => {
      this.deferTimers.delete(timer);
      if (!this.held.has(ctx.topic) && !this.stopping.signal.aborted) resume();
    }, Math.max(0, ms));
    this.deferTimers.add(timer);
  }

  /**
   * Commits through the batch's own handle: kafkajs' consumer.commitOffsets() silently does nothing
   * once stop() has begun, which would drop the commit of the batch that shutdown waits for.
   */
  private async commit(
    payload: { commitOffsetsIfNecessary(offsets?: Offsets): Promise<void> },
    topic: string,
    partition: number,
    offset: string,
    generation: number,
  ): Promise<void> {
    if (!this.owns(generation)) {
      // kafkajs commits with the member's current generation: a batch of an earlier one would
      // commit for a partition that may be another member's now (its offset moved under it).
      this.options.log.warn({ topic, partition, offset }, 'not committing: the partition was revoked while its batch was in hand');
      return;
    }
    try {
      await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: nextOffset(offset) }] }] });
      this.lastConfirmedAt = Date.now();
      this.lagMonitor.committed(topic, partition, nextOffset(offset));
    } catch (err) {
      // Lost the partition in a rebalance: its new owner re-reads from the last commit (at-least-once).
      this.noteMembership(err, generation, { topic, partition });
      this.options.log.warn({ topic, partition, offset, err: errorMessage(err) }, 'offset commit failed');
    }
  }

  /** True while `generation` is the current one and the coordinator has not said this member left it. */
  private owns(generation: number): boolean {
    return this.generation === generation && this.lostGeneration !== generation;
  }

  /** Records what a failed heartbeat or commit says about membership (see membershipSignal). */
  private noteMembership(err: unknown, generation: number, at: { topic: string; partition: number }): void {
    const signal = membershipSignal(err);
    if (signal === 'lost' && this.lostGeneration !== generation) {
      this.lostGeneration = generation;
      this.options.log.warn({ groupId: this.options.groupId, topic: at.topic, partition: at.partition, err: errorMessage(err) }, 'group membership lost: the batch in hand is abandoned, nothing more is written or committed for it');
    } else if (signal === 'rebalancing') {
      this.rebalancingGeneration = generation;
    }
  }

  private async confirmOwnership(payload: { heartbeat(): Promise<void> }, at: { topic: string; partition: number }, generation: number): Promise<void> {
    const check = (): void => {
      if (this.generation !== generation) throw new PartitionRevokedError(at.topic, at.partition, 'the group rebalanced while its batch was in hand');
      if (this.lostGeneration === generation) throw new PartitionRevokedError(at.topic, at.partition, 'the coordinator no longer knows this member (session expired)');
    };
    check();
    if (Date.now() - this.lastConfirmedAt < (this.options.heartbeatIntervalMs ?? 3_000)) return;
    try {
      // kafkajs sends it only when the last successful heartbeat is older than the interval.
      await payload.heartbeat();
      this.lastConfirmedAt = Date.now();
    } catch (err) {
      this.noteMembership(err, generation, at);
      check();
      // Rebalancing: still the owner until it rejoins, which waits for this batch.
      if (membershipSignal(err) !== 'rebalancing') throw new EnvironmentError(`cannot confirm ownership of ${at.topic}/${at.partition}: ${errorMessage(err)}`, { cause: err });
    }
    check();
  }

  private setBlocked(topic: string, partition: number, reason: string | undefined): void {
    const id = `${topic}/${partition}`;
    const current = this.blocked.get(id);
    if (reason === undefined) {
      if (!current) return;
      this.blocked.delete(id);
      this.options.log.info({ topic, partition }, 'partition no longer held');
    } else {
      this.blocked.set(id, { topic, partition, reason, since: current?.since ?? Date.now() });
    }
    if (reason !== current?.reason) this.options.hooks?.onBlocked?.(topic, partition, reason);
  }

  private setTransient(err: unknown | undefined): void {
    if (err === undefined) {
      if (this.failingSince === undefined) return;
      this.failingSince = undefined;
      this.options.hooks?.onTransientState?.(undefined);
      return;
    }
    if (this.failingSince === undefined) {
      this.failingSince = Date.now();
      this.options.hooks?.onTransientState?.(err);
    }
  }
}
