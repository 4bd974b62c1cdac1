import { EventEmitter } from 'node:events';
import type { Admin, Consumer, ConsumerConfig, ConsumerRunConfig, EachBatchPayload, Offsets, Producer, ProducerBatch, ProducerConfig, ProducerRecord, RecordMetadata } from 'kafkajs';
import { confluentClientConfig, confluentConsumerSettings, confluentProducerSettings, type RdKafkaValue } from './confluent-config';
import { kafkaAccessProblem } from './kafka-access';
import type { KafkaClientPort } from './kafka-client.port';
import type { KafkaConnectionOptions, LogSink } from './kafka.interface';

/** The package that holds Confluent's client; an optional dependency (scripts/kafka-confluent.sh builds it). */
export const CONFLUENT_PACKAGE = '@confluentinc/kafka-javascript';

// The parts of @confluentinc/kafka-javascript's KafkaJS namespace this adapter calls. Declared here,
// not imported, so the suite compiles where the optional package is not installed.
type ConfluentConfig = Record<string, unknown>;
interface ConfluentProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: ProducerRecord['messages'] }): Promise<RecordMetadata[]>;
  sendBatch(batch: { topicMessages: ProducerBatch['topicMessages'] }): Promise<RecordMetadata[]>;
}
interface ConfluentPayload {
  batch: EachBatchPayload['batch'];
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  pause(): () => void;
  commitOffsetsIfNecessary(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}
interface ConfluentConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topics: string[] }): Promise<void>;
  run(config: { eachBatchAutoResolve?: boolean; partitionsConsumedConcurrently?: number; eachBatch: (payload: ConfluentPayload) => Promise<void> }): Promise<void>;
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  pause(topics: { topic: string; partitions?: number[] }[]): void;
  resume(topics: { topic: string; partitions?: number[] }[]): void;
  seek(at: { topic: string; partition: number; offset: string }): void;
}
interface ConfluentAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  fetchTopicMetadata(options: { topics: string[] }): Promise<unknown>;
}
interface ConfluentKafka {
  producer(config: ConfluentConfig): ConfluentProducer;
  consumer(config: ConfluentConfig): ConfluentConsumer;
  admin(config?: ConfluentConfig): ConfluentAdmin;
}
interface ConfluentModule {
  KafkaJS: { Kafka: new (config: ConfluentConfig) => ConfluentKafka };
}

/** The Confluent client module, or why it cannot be loaded (not installed, or its native build is missing). */
export function loadConfluentClient(): { readonly module: ConfluentModule } | { readonly missing: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional dependency, loaded only when selected
    const module = require(CONFLUENT_PACKAGE) as ConfluentModule;
    if (typeof module.KafkaJS?.Kafka !== 'function') return { missing: `${CONFLUENT_PACKAGE} has no KafkaJS.Kafka` };
    return { module };
  } catch (err) {
    return { missing: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
  }
}

/** librdkafka's rebalance event codes (rdkafka.h RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS / __REVOKE_PARTITIONS). */
const ASSIGN_PARTITIONS = -175;

// kafkajs' event names, so listeners written for kafkajs attach unchanged.
const PRODUCER_EVENTS = { CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect' } as const;
const CONSUMER_EVENTS = {
  HEARTBEAT: 'consumer.heartbeat',
  GROUP_JOIN: 'consumer.group_join',
  FETCH: 'consumer.fetch',
  REBALANCING: 'consumer.rebalancing',
  CRASH: 'consumer.crash',
  STOP: 'consumer.stop',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
} as const;

function event(type: string, payload: object): object {
  return { id: 0, type, timestamp: Date.now(), payload };
}

/**
 * Routes librdkafka's and the binding's log lines into the app's logger (info is chatty: debug);
 * `onError` sees each error line (the producer keeps the last one, see ConfluentProducerAdapter).
 */
function confluentLogger(log: LogSink, onError?: (message: string) => void): object {
  const line = (level: 'error' | 'warn' | 'debug') => (message: string, extra?: Record<string, unknown>) => {
    if (level === 'error') onError?.(message);
    log[level]({ component: 'librdkafka', fac: extra?.['fac'], name: extra?.['name'] }, message);
  };
  const logger = { error: line('error'), warn: line('warn'), info: line('debug'), debug: line('debug'), setLogLevel: () => {}, namespace: () => logger };
  return logger;
}

/** librdkafka's errors for a fatal producer error, or the queued records it dropped because of one. */
function isFatalOrPurged(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const type = (err as { type?: unknown }).type;
  return type === 'ERR__PURGE_QUEUE' || type === 'ERR__FATAL' || /Purged in queue|Fatal error/.test(String((err as { message?: unknown }).message));
}

function notSupported(what: string): never {
  throw new Error(`kafka.client confluent: ${what} is not supported by this adapter (docs/performance.md "Kafka client libraries")`);
}

/**
 * A producer in kafkajs' shape on Confluent's client. Acks, compression and timeouts are per
 * producer there: a send that asks for a compression is refused rather than silently sent plain.
 */
class ConfluentProducerAdapter extends EventEmitter {
  readonly events = PRODUCER_EVENTS;
  private readonly producer: ConfluentProducer;
  /** The last few error lines librdkafka logged for this producer, with when (the cause of a fatal error is among them). */
  private readonly recentErrors: { readonly at: number; readonly message: string }[] = [];

  constructor(kafka: ConfluentKafka, config: ProducerConfig | undefined, log: LogSink) {
    super();
    const settings = confluentProducerSettings(config);
    const logger = confluentLogger(log, (message) => {
      if (this.recentErrors.some((e) => e.message === message)) return;
      this.recentErrors.push({ at: Date.now(), message });
      if (this.recentErrors.length > 4) this.recentErrors.shift();
    });
    this.producer = kafka.producer({ kafkaJS: { ...settings.kafkaJS, logger }, ...settings.rdkafka });
  }

  /**
   * A fatal producer error (e.g. the broker refusing the idempotent producer id to a principal
   * without any Write ACL) reaches send() only as "Fatal error" or "Purged in queue": the cause is
   * in the error lines librdkafka logged just before, so the send fails with those
   * (kafkaAccessProblem reads them). The line can come a moment after the rejection: up to 1 s.
   */
  private async explain(err: unknown): Promise<unknown> {
    if (!isFatalOrPurged(err)) return err;
    // Only lines from around this failure explain it: an old refusal or a broker restart's transport
    // errors must not be read as its cause.
    const since = Date.now() - 5_000;
    const recent = (): string[] => this.recentErrors.filter((e) => e.at >= since).map((e) => e.message);
    for (let waited = 0; recent().length === 0 && waited < 1_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    if (recent().length === 0) return err;
    return new Error(`${String((err as { message?: unknown }).message)}, after: ${recent().join('; ')}`, { cause: err });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.emit(PRODUCER_EVENTS.CONNECT, event(PRODUCER_EVENTS.CONNECT, {}));
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
    this.emit(PRODUCER_EVENTS.DISCONNECT, event(PRODUCER_EVENTS.DISCONNECT, {}));
  }

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    refusePerSendOptions(record);
    return this.producer.send({ topic: record.topic, messages: record.messages }).catch(async (err: unknown) => Promise.reject(await this.explain(err)));
  }

  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    refusePerSendOptions(batch);
    return this.producer.sendBatch({ topicMessages: batch.topicMessages ?? [] }).catch(async (err: unknown) => Promise.reject(await this.explain(err)));
  }

  override on(name: string, listener: (...args: unknown[]) => void): this {
    return super.on(name, listener);
  }

  transaction(): never {
    return notSupported('a transactional producer');
  }
}

/**
 * kafkajs' heartbeat() in eachBatch, which the runner's confirmOwnership calls before writing. The
 * Confluent client's heartbeat() does nothing (librdkafka heartbeats on its own thread); what it
 * knows is whether the batch went stale (partition revoked, group rebalanced), and a stale batch is
 * refused with kafkajs' lost-generation error, so the runner abandons it. Known limit: a member
 * paused past its session timeout (SIGSTOP, a VM freeze) is not told before the consume loop,
 * busy with this batch, serves the rebalance: it can write that batch's effects once more after
 * the new owner (docs/performance.md "Kafka client libraries"; kafkajs fences it).
 */
async function confirmMembership(payload: ConfluentPayload): Promise<void> {
  const { topic, partition } = payload.batch;
  if (payload.isStale()) throw Object.assign(new Error(`the Confluent client marked the batch of ${topic}/${partition} stale (partition revoked or group rebalanced)`), { type: 'ILLEGAL_GENERATION' });
  await payload.heartbeat();
}

function refusePerSendOptions(options: { acks?: number; compression?: number }): void {
  if (options.acks !== undefined && options.acks !== -1) notSupported(`acks=${options.acks} per send (the producer always waits for all in-sync replicas)`);
  if (options.compression !== undefined && options.compression !== 0) notSupported('compression per send');
}

/**
 * A consumer in kafkajs' shape on Confluent's client. Where the clients differ:
 * - `fromBeginning` (kafkajs: per subscribe) and `autoCommit` (per run) are per consumer there, so
 *   the Confluent consumer is created in run(), once both are known; a run after a disconnect
 *   (the runner's restart) creates a new one.
 * - kafkajs' instrumentation events are derived: GROUP_JOIN from librdkafka's assign callback
 *   (with the member's assignment), REBALANCING from its revoke callback, FETCH and HEARTBEAT
 *   when a batch arrives and, while idle, every `maxWaitTimeInMs` while the consumer is connected
 *   (librdkafka fetches and heartbeats on its own threads and does not report either).
 * - `heartbeat()` is a no-op there (librdkafka heartbeats in the background); a commit with
 *   explicit offsets goes to consumer.commitOffsets().
 */
class ConfluentConsumerAdapter extends EventEmitter {
  readonly events = CONSUMER_EVENTS;
  private consumer: ConfluentConsumer | undefined;
  private topics: string[] = [];
  private fromBeginning = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kafka: ConfluentKafka,
    private readonly config: ConsumerConfig,
    private readonly log: LogSink,
  ) {
    super();
  }

  /**
   * kafkajs crashes when the broker denies the group or a topic (an ACL), and the runner reports
   * it and starts it again with backoff; librdkafka only logs the refusal and keeps trying. The
   * adapter turns a logged authorization refusal into the same crash: CRASH, then the consumer is
   * disconnected (a run() after it starts a new one).
   */
  private refused(consumer: ConfluentConsumer, message: string): void {
    if (this.consumer !== consumer || kafkaAccessProblem(new Error(message))?.kind !== 'authorization') return;
    this.consumer = undefined;
    clearInterval(this.idleTimer);
    this.idleTimer = undefined;
    const error = new Error(message);
    void consumer.disconnect().catch(() => undefined).then(() => this.emit(CONSUMER_EVENTS.CRASH, event(CONSUMER_EVENTS.CRASH, { error, groupId: this.config.groupId, restart: false })));
  }

  /**
   * kafkajs refuses to run on a topic that does not exist (consumers never create topics), and the
   * runner starts it again with backoff until it does; librdkafka would wait silently and notice
   * the topic only at its next metadata refresh (up to 5 minutes). Refuse the same way, and say
   * whether the topic is missing or this principal may not see it (an ACL), as kafkajs does. The
   * Confluent admin asks without creating topics.
   */
  private async requireTopics(): Promise<void> {
    const admin = this.kafka.admin({ kafkaJS: { logger: confluentLogger(this.log) } });
    await admin.connect();
    try {
      await admin.fetchTopicMetadata({ topics: [...this.topics] });
    } catch (err) {
      if ((err as { type?: unknown }).type !== 'ERR_UNKNOWN_TOPIC_OR_PART') throw err;
      throw new Error(`This server does not host this topic-partition: ${this.topics.join(', ')} (topics are never created by consumers)`, { cause: err });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async connect(): Promise<void> {
    // Nothing to do yet: the Confluent consumer needs fromBeginning, known at subscribe.
  }

  async subscribe(subscription: { topics?: (string | RegExp)[]; topic?: string | RegExp; fromBeginning?: boolean }): Promise<void> {
    const topics = subscription.topics ?? (subscription.topic === undefined ? [] : [subscription.topic]);
    if (topics.some((t) => typeof t !== 'string')) notSupported('a pattern subscription');
    this.topics = topics as string[];
    this.fromBeginning = subscription.fromBeginning ?? false;
  }

  async run(config: ConsumerRunConfig = {}): Promise<void> {
    const eachBatch = config.eachBatch;
    if (!eachBatch) return notSupported('run() without eachBatch');
    await this.requireTopics();
    const settings = confluentConsumerSettings(this.config, { fromBeginning: this.fromBeginning, autoCommit: config.autoCommit ?? true });
    const rdkafka: Record<string, RdKafkaValue | ((err: { code: number }, assignment: { topic: string; partition: number }[]) => void)> = {
      ...settings.rdkafka,
      rebalance_cb: (err, assignment) => this.rebalanced(err.code, assignment),
    };
    let consumer: ConfluentConsumer | undefined = undefined;
    const logger = confluentLogger(this.log, (message) => consumer && this.refused(consumer, message));
    consumer = this.kafka.consumer({ kafkaJS: { ...settings.kafkaJS, logger }, ...rdkafka });
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics });
    this.consumer = consumer;
    this.emit(CONSUMER_EVENTS.CONNECT, event(CONSUMER_EVENTS.CONNECT, {}));
    await consumer.run({
      eachBatchAutoResolve: config.eachBatchAutoResolve ?? true,
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.batch(consumer!, payload, eachBatch),
    });
    const idleMs = Math.max(100, this.config.maxWaitTimeInMs ?? 1_000);
    this.idleTimer = setInterval(() => this.fetched(), idleMs);
    this.idleTimer.unref();
  }

  /**
   * A sign of life of the fetch loop (liveness). No HEARTBEAT event: librdkafka heartbeats on its own
   * thread and says nothing of it, and a made-up one would let the runner's confirmOwnership skip its
   * heartbeat() call, the only place a revoked partition (a stale batch) is noticed before writing.
   */
  private fetched(): void {
    this.emit(CONSUMER_EVENTS.FETCH, event(CONSUMER_EVENTS.FETCH, {}));
  }

  private rebalanced(code: number, assignment: { topic: string; partition: number }[]): void {
    if (code !== ASSIGN_PARTITIONS) {
      this.emit(CONSUMER_EVENTS.REBALANCING, event(CONSUMER_EVENTS.REBALANCING, { groupId: this.config.groupId }));
      return;
    }
    const memberAssignment: Record<string, number[]> = {};
    for (const { topic, partition } of assignment) (memberAssignment[topic] ??= []).push(partition);
    this.emit(CONSUMER_EVENTS.GROUP_JOIN, event(CONSUMER_EVENTS.GROUP_JOIN, { groupId: this.config.groupId, memberAssignment }));
  }

  private async batch(consumer: ConfluentConsumer, payload: ConfluentPayload, eachBatch: NonNullable<ConsumerRunConfig['eachBatch']>): Promise<void> {
    this.fetched();
    const adapted = {
      batch: payload.batch,
      resolveOffset: (offset: string) => payload.resolveOffset(offset),
      heartbeat: () => confirmMembership(payload),
      pause: () => payload.pause(),
      isRunning: () => payload.isRunning(),
      isStale: () => payload.isStale(),
      commitOffsetsIfNecessary: (offsets?: Offsets) =>
        offsets === undefined
          ? payload.commitOffsetsIfNecessary()
          : consumer.commitOffsets(offsets.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset })))),
      uncommittedOffsets: () => notSupported('uncommittedOffsets() in eachBatch'),
    };
    await eachBatch(adapted as unknown as EachBatchPayload);
  }

  pause(topics: { topic: string; partitions?: number[] }[]): void {
    this.consumer?.pause(topics);
  }

  resume(topics: { topic: string; partitions?: number[] }[]): void {
    this.consumer?.resume(topics);
  }

  seek(at: { topic: string; partition: number; offset: string }): void {
    if (!this.consumer) return notSupported('seek() before run()');
    this.consumer.seek(at);
  }

  async commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void> {
    if (!this.consumer) return notSupported('commitOffsets() before run()');
    await this.consumer.commitOffsets(offsets);
  }

  async disconnect(): Promise<void> {
    clearInterval(this.idleTimer);
    this.idleTimer = undefined;
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer) await consumer.disconnect();
    this.emit(CONSUMER_EVENTS.STOP, event(CONSUMER_EVENTS.STOP, {}));
    this.emit(CONSUMER_EVENTS.DISCONNECT, event(CONSUMER_EVENTS.DISCONNECT, {}));
  }

  async stop(): Promise<void> {
    await this.disconnect();
  }

  override on(name: string, listener: (...args: unknown[]) => void): this {
    return super.on(name, listener);
  }
}

/**
 * Producers and consumers on Confluent's client, admin on kafkajs: the Confluent admin client has
 * no describeCluster, describeConfigs, alterConfigs, createPartitions nor createAcls, which topic
 * checks and ACL setup need (docs/performance.md "Kafka client libraries").
 */
export class ConfluentClientAdapter implements KafkaClientPort {
  private readonly kafka: ConfluentKafka;
  private readonly logger: object;
  private readonly log: LogSink;

  constructor(
    module: ConfluentModule,
    options: KafkaConnectionOptions,
    log: LogSink,
    private readonly adminClient: () => Admin,
  ) {
    const config = confluentClientConfig(options);
    this.log = log;
    this.logger = confluentLogger(log);
    this.kafka = new module.KafkaJS.Kafka({ kafkaJS: { ...config.kafkaJS, logger: this.logger }, ...config.rdkafka });
  }

  producer(config?: ProducerConfig): Producer {
    return new ConfluentProducerAdapter(this.kafka, config, this.log) as unknown as Producer;
  }

  consumer(config: ConsumerConfig): Consumer {
    return new ConfluentConsumerAdapter(this.kafka, config, this.log) as unknown as Consumer;
  }

  admin(): Admin {
    return this.adminClient();
  }
}
