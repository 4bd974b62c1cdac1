import type { Admin, Kafka } from 'kafkajs';
import { backoffDelay, sleep } from './backoff';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions?: number;
  readonly replicationFactor?: number;
  readonly compacted?: boolean;
  readonly config?: Readonly<Record<string, string>>;
}

/** Creates topics that are missing (ensureTopics never alters existing ones) and answers cluster health checks. */
export class TopicAdmin {
  private readonly admin: Admin;
  private connected = false;

  constructor(kafka: Kafka, private readonly defaults: { partitions: number; replicationFactor: number }) {
    this.admin = kafka.admin();
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.admin.connect();
    this.connected = true;
  }

  /**
   * Returns the topics it created. Creating right after another client did, or while the broker is
   * still publishing new partitions' metadata, can fail transiently ("does not host this
   * topic-partition"): it then looks again and retries, a bounded number of times.
   */
  async ensureTopics(specs: readonly TopicSpec[]): Promise<string[]> {
    await this.connect();
    const created: string[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        created.push(...(await this.createMissing(specs)));
        return created;
      } catch (err) {
        if (attempt >= 5) throw err;
        await sleep(backoffDelay(attempt, { initialMs: 200, maxMs: 2_000, jitter: 0.2 }));
      }
    }
  }

  private async createMissing(specs: readonly TopicSpec[]): Promise<string[]> {
    const existing = new Set(await this.admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return [];
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions ?? this.defaults.partitions,
        replicationFactor: s.replicationFactor ?? this.defaults.replicationFactor,
        configEntries: Object.entries({
          ...(s.compacted ? { 'cleanup.policy': 'compact' } : {}),
          ...(s.config ?? {}),
        }).map(([name, value]) => ({ name, value })),
      })),
    });
    return missing.map((s) => s.topic);
  }

  async topicConfig(topic: string, name: string): Promise<string | undefined> {
    await this.connect();
    const res = await this.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: [name] }] });
    return res.resources[0]?.configEntries.find((e) => e.configName === name)?.configValue;
  }

  /** Sets topic-level configuration entries of an existing topic (others keep their values). */
  async setTopicConfig(topic: string, entries: Readonly<Record<string, string>>): Promise<void> {
    await this.connect();
    await this.admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: 2, name: topic, configEntries: Object.entries(entries).map(([name, value]) => ({ name, value })) }],
    });
  }

  async listTopics(): Promise<string[]> {
    await this.connect();
    return this.admin.listTopics();
  }

  /** Messages currently held by a topic (high minus low watermark, summed over partitions); 0 when it does not exist. */
  async messageCount(topic: string): Promise<number> {
    await this.connect();
    if (!(await this.admin.listTopics()).includes(topic)) return 0;
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(BigInt(p.high) - BigInt(p.low)), 0);
  }

  /** Messages of a topic the group has not committed yet (its lag), summed over partitions. */
  async groupLag(groupId: string, topic: string): Promise<number> {
    await this.connect();
    if (!(await this.admin.listTopics()).includes(topic)) return 0;
    const [ends, committed] = await Promise.all([this.admin.fetchTopicOffsets(topic), this.committedOffsets(groupId, topic)]);
    return ends.reduce((sum, p) => {
      const c = BigInt(committed.get(p.partition) ?? '-1');
      return sum + Number(BigInt(p.high) - (c < 0n ? BigInt(p.low) : c));
    }, 0);
  }

  /** Committed offsets of a consumer group for one topic, per partition. */
  async committedOffsets(groupId: string, topic: string): Promise<Map<number, string>> {
    await this.connect();
    const res = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((res[0]?.partitions ?? []).map((p) => [p.partition, p.offset]));
  }

  /** Low and high watermark of every partition of a topic ([] when it does not exist). */
  async partitionOffsets(topic: string): Promise<Array<{ partition: number; low: string; high: string }>> {
    await this.connect();
    if (!(await this.admin.listTopics()).includes(topic)) return [];
    return (await this.admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: p.low, high: p.high }));
  }

  /**
   * Deletes every record below `offset` in each given partition (Kafka DeleteRecords: it moves the
   * log start offset; single records in the middle cannot be deleted).
   */
  async deleteRecordsBefore(topic: string, partitions: ReadonlyArray<{ partition: number; offset: string }>): Promise<void> {
    if (partitions.length === 0) return;
    await this.connect();
    await this.admin.deleteTopicRecords({ topic, partitions: partitions.map((p) => ({ partition: p.partition, offset: p.offset })) });
  }

  /** Answers whether the cluster responds, within `timeoutMs`. */
  async ping(timeoutMs: number): Promise<void> {
    await this.connect();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`kafka did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.admin.describeCluster(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async disconnect(): Promise<void> {
    await this.admin.disconnect();
    this.connected = false;
  }
}
