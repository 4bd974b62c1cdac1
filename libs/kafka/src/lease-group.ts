import type { Consumer } from 'kafkajs';
import type { KafkaClientPort } from './kafka-client.port';
import type { LogSink } from './kafka.interface';

/** What a member holds after a join: the partitions of the lease topic and the group generation's view of it. */
export interface LeaseAssignment {
  readonly partitions: readonly number[];
  readonly memberId: string;
  readonly isLeader: boolean;
}

export interface LeaseGroupOptions {
  readonly topic: string;
  readonly groupId: string;
  /** The member is evicted (and its partitions handed over) after this long without a heartbeat. */
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly log: LogSink;
}

export interface LeaseListener {
  /** A rebalance began: every lease this member held is about to be revoked. */
  onRevoke(): void;
  /** The member joined a new generation and holds these partitions (possibly none). */
  onAssign(assignment: LeaseAssignment): void;
  /** The member left the group for good (crash without restart, or stop). */
  onLost(reason: string): void;
}

/**
 * Leases through a consumer group: the partitions of a small topic nobody writes to are the work
 * units, and the group protocol (join, sync, heartbeats, session timeout) hands them out. kafkajs
 * revokes everything at the start of a rebalance (eager protocol), so onRevoke means "all".
 */
export class LeaseGroup {
  private consumer: Consumer | undefined;
  private joined = false;

  constructor(private readonly kafka: KafkaClientPort, private readonly options: LeaseGroupOptions) {}

  /** Joined at least once and not lost since. */
  get isJoined(): boolean {
    return this.joined;
  }

  async start(listener: LeaseListener): Promise<void> {
    const { topic, groupId, sessionTimeoutMs, heartbeatIntervalMs } = this.options;
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: sessionTimeoutMs,
      rebalanceTimeout: Math.max(sessionTimeoutMs, 10_000),
      heartbeatInterval: heartbeatIntervalMs,
      // Nothing is ever fetched: the fetch loop only paces heartbeats.
      maxWaitTimeInMs: Math.min(heartbeatIntervalMs, 1_000),
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.REBALANCING, () => listener.onRevoke());
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.joined = true;
      listener.onAssign({ partitions: [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b), memberId: payload.memberId, isLeader: payload.isLeader });
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.options.log.warn({ groupId, err: String(payload.error), restart: payload.restart }, 'lease group consumer crashed');
      listener.onRevoke();
      if (!payload.restart) {
        this.joined = false;
        listener.onLost(String(payload.error));
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await consumer.run({ autoCommit: false, eachBatch: async () => undefined });
  }

  /** Leaves the group: the coordinator hands this member's partitions to the others at once. */
  async stop(): Promise<void> {
    this.joined = false;
    await this.consumer?.disconnect().catch((err: unknown) => this.options.log.warn({ err: String(err) }, 'leaving the lease group failed'));
    this.consumer = undefined;
  }
}
