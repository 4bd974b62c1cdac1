import { AclAdmin } from './acl-admin';
import { BatchConsumerRunner, type BatchConsumerOptions } from './batch-consumer.runner';
import { readCompactedTopic, readTopicToEnd } from './compacted-topic.reader';
import { GroupOffsetReader, type ConsumerLagSample } from './consumer-lag';
import { createKafkaClient } from './kafka-client.factory';
import type { KafkaClientPort } from './kafka-client.port';
import { latestMessageTime } from './latest-message.reader';
import { LeaseGroup, type LeaseGroupOptions } from './lease-group';
import type { InboundMessage, KafkaClientKind, KafkaConnectionOptions, LogSink } from './kafka.interface';
import { SyncProducer, type SyncProducerTuning } from './sync-producer';
import { TopicAdmin, type TopicPolicy } from './topic-admin';

export interface KafkaConnectionSettings {
  /**
   * How often each batch consumer reads its group's committed and log-end offsets for the lag
   * figures (consumerLag()); unset: only fetched batches update them.
   */
  readonly consumerLagRefreshMs?: number;
}

/** One app's link to the cluster: the factory for its producers, consumers and admin client. */
export class KafkaConnection {
  private readonly kafka: KafkaClientPort;
  /** The client library producers and consumers run on: options.client, or kafkajs when that is not installed. */
  readonly client: KafkaClientKind;
  private readonly consumers = new Set<BatchConsumerRunner>();
  private offsetReader: GroupOffsetReader | undefined;

  constructor(
    readonly options: KafkaConnectionOptions,
    private readonly log: LogSink,
    private readonly settings: KafkaConnectionSettings = {},
  ) {
    const choice = createKafkaClient(options, log);
    this.kafka = choice.client;
    this.client = choice.kind;
  }

  producer(tuning?: SyncProducerTuning): SyncProducer {
    return new SyncProducer(this.kafka, tuning);
  }

  /** An admin client creating and checking topics under `policy` (default: 1 partition, replication from the broker count). */
  admin(policy: TopicPolicy = { partitions: 1 }): TopicAdmin {
    return new TopicAdmin(this.kafka, policy, this.log);
  }

  /** Creates ACLs (docs/security.md); needs a super user's credentials. */
  aclAdmin(): AclAdmin {
    return new AclAdmin(this.kafka);
  }

  /** The latest message per key of a compacted topic, read from its start to its current end. */
  readCompacted(topic: string, timeoutMs?: number): Promise<Map<string, InboundMessage>> {
    return readCompactedTopic(this.kafka, topic, this.log, timeoutMs);
  }

  /** Every message of a topic from its start to its end when the call began, in partition order. */
  async readAll(topic: string, timeoutMs = 60_000): Promise<InboundMessage[]> {
    const all: InboundMessage[] = [];
    await readTopicToEnd(this.kafka, topic, this.log, timeoutMs, (m) => all.push(m));
    return all;
  }

  /** Timestamp (ms) of a topic's newest message; undefined when it is empty. */
  latestMessageTime(topic: string, timeoutMs?: number): Promise<number | undefined> {
    return latestMessageTime(this.kafka, topic, timeoutMs);
  }

  /** Leases through a consumer group on `options.topic` (legacy-import's work units). */
  leaseGroup(options: Omit<LeaseGroupOptions, 'log'>): LeaseGroup {
    return new LeaseGroup(this.kafka, { ...options, log: this.log });
  }

  /** A batch consumer whose dead letters go out through `dlqProducer`. */
  batchConsumer(dlqProducer: SyncProducer, options: Omit<BatchConsumerOptions, 'log'> & { log?: LogSink }): BatchConsumerRunner {
    const lagRefreshMs = options.lagRefreshMs ?? this.settings.consumerLagRefreshMs;
    this.offsetReader ??= new GroupOffsetReader(this.kafka);
    const runner = new BatchConsumerRunner(
      this.kafka,
      dlqProducer,
      { ...options, log: options.log ?? this.log, ...(lagRefreshMs === undefined ? {} : { lagRefreshMs }) },
      this.offsetReader,
    );
    this.consumers.add(runner);
    return runner;
  }

  /** Every live batch consumer made through this connection (liveness watches them). */
  runners(): readonly BatchConsumerRunner[] {
    return [...this.consumers];
  }

  /**
   * Lag of every partition the batch consumers of this connection own, per group: each member
   * reports only its own partitions, so figures of several replicas add up without overlap.
   */
  consumerLag(now = Date.now()): ConsumerLagSample[] {
    const samples: ConsumerLagSample[] = [];
    for (const runner of this.consumers) {
      if (runner.isStopped) this.consumers.delete(runner);
      else samples.push(...runner.consumerLag(now));
    }
    return samples;
  }
}
