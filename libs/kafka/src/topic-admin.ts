import type { Admin } from 'kafkajs';
import type { KafkaClientPort } from './kafka-client.port';
import { backoffDelay, sleep } from './backoff';
import { silentLog, type LogSink } from './kafka.interface';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions?: number;
  readonly replicationFactor?: number;
  readonly compacted?: boolean;
  readonly config?: Readonly<Record<string, string>>;
}

/** What one class of topic needs: its cleanup policy and, for `delete`, how long records are kept. */
export interface TopicClassSettings {
  readonly cleanupPolicy: 'delete' | 'compact';
  /** retention.ms of a `delete` topic (-1 keeps records forever); ignored for `compact`. */
  readonly retentionMs?: number;
}

/**
 * How the suite creates topics and what it expects of existing ones (docs/operations.md "Topic
 * settings"). Absent replicationFactor: min(3, brokers the cluster reports); absent
 * minInsyncReplicas: replicationFactor - 1, at least 1.
 */
export interface TopicPolicy {
  readonly partitions: number;
  readonly replicationFactor?: number;
  readonly minInsyncReplicas?: number;
  /** Settings per topic name; absent: `delete` with the broker's retention (compacted specs compact). */
  readonly classify?: (topic: string) => TopicClassSettings;
}

export type TopicSetting = 'retention.ms' | 'cleanup.policy' | 'min.insync.replicas' | 'replication.factor';

/** One setting of an existing topic that is weaker than the policy asks. */
export interface TopicWeakness {
  readonly topic: string;
  readonly setting: TopicSetting;
  readonly actual: string;
  readonly required: string;
}

const CHECKED_CONFIGS = ['cleanup.policy', 'retention.ms', 'min.insync.replicas'] as const;
const TOPIC_RESOURCE = 2; // kafkajs ConfigResourceTypes.TOPIC

/** What a topic must have: the resolved policy for one name. */
export interface TopicRequirements {
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly cleanupPolicy?: 'delete' | 'compact';
  readonly retentionMs?: number;
}

/**
 * Creates topics that are missing with the policy's settings, checks existing ones against it
 * (one warning per weaker topic; ensureTopics never alters an existing topic) and answers cluster
 * health checks.
 */
export class TopicAdmin {
  private readonly admin: Admin;
  private connected = false;
  private brokers: number | undefined;
  private readonly checked = new Set<string>();
  private readonly weak = new Map<string, TopicWeakness[]>();
  private readonly listeners: Array<(weak: readonly TopicWeakness[]) => void> = [];

  constructor(kafka: KafkaClientPort, private readonly policy: TopicPolicy = { partitions: 1 }, private readonly log: LogSink = silentLog) {
    this.admin = kafka.admin();
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.admin.connect();
    this.connected = true;
  }

  /**
   * Returns the topics it created. Topics that already existed are checked once per admin against
   * the policy (checkTopics); the check never fails this call. Creating right after another client
   * did, or while the broker is still publishing new partitions' metadata, can fail transiently
   * ("does not host this topic-partition"): it then looks again and retries, a bounded number of times.
   */
  async ensureTopics(specs: readonly TopicSpec[]): Promise<string[]> {
    await this.connect();
    const created: string[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        created.push(...(await this.createMissing(specs)));
        break;
      } catch (err) {
        if (attempt >= 5) throw err;
        await sleep(backoffDelay(attempt, { initialMs: 200, maxMs: 2_000, jitter: 0.2 }));
      }
    }
    const existing = specs.filter((s) => !created.includes(s.topic) && !this.checked.has(s.topic));
    if (existing.length > 0) {
      try {
        await this.checkTopics(existing);
      } catch (err) {
        this.log.warn({ topics: existing.map((s) => s.topic), err: err instanceof Error ? err.message : String(err) }, 'could not check the settings of existing topics');
      }
    }
    return created;
  }

  private async createMissing(specs: readonly TopicSpec[]): Promise<string[]> {
    const existing = new Set(await this.admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return [];
    const topics = [];
    for (const s of missing) {
      const req = await this.requirements(s);
      topics.push({
        topic: s.topic,
        numPartitions: s.partitions ?? this.policy.partitions,
        replicationFactor: req.replicationFactor,
        configEntries: Object.entries({ ...configEntries(req), ...(s.config ?? {}) }).map(([name, value]) => ({ name, value })),
      });
    }
    await this.admin.createTopics({ waitForLeaders: true, topics });
    for (const s of missing) this.checked.add(s.topic);
    return missing.map((s) => s.topic);
  }

  /** The settings a topic must have under the policy (the replication factor may need the broker count). */
  private async requirements(spec: TopicSpec): Promise<TopicRequirements> {
    const replicationFactor = spec.replicationFactor ?? this.policy.replicationFactor ?? Math.min(3, await this.brokerCount());
    const minInsyncReplicas = this.policy.minInsyncReplicas ?? Math.max(1, replicationFactor - 1);
    if (minInsyncReplicas > replicationFactor) {
      // Kafka would accept the topic, but no acks=all write could ever succeed on it.
      throw new Error(`kafka.topics.minInsyncReplicas (${minInsyncReplicas}) exceeds the replication factor ${replicationFactor} of topic ${spec.topic}`);
    }
    const cls = this.policy.classify?.(spec.topic);
    const cleanupPolicy = spec.compacted ? 'compact' : cls?.cleanupPolicy;
    return {
      replicationFactor,
      minInsyncReplicas,
      ...(cleanupPolicy !== undefined && { cleanupPolicy }),
      ...(cleanupPolicy !== 'compact' && cls?.retentionMs !== undefined && { retentionMs: cls.retentionMs }),
    };
  }

  /** Brokers the cluster reports (cached: the default replication factor is min(3, this)). */
  private async brokerCount(): Promise<number> {
    this.brokers ??= Math.max(1, (await this.admin.describeCluster()).brokers.length);
    return this.brokers;
  }

  /**
   * Compares existing topics with the policy: a shorter retention.ms, a lower min.insync.replicas or
   * replication factor (fewest replicas over its partitions), or another cleanup.policy than required.
   * Logs one warning per weaker topic, remembers the findings (weakSettings) and tells the listeners.
   * Never alters a topic (docs/operations.md says how to fix one).
   */
  async checkTopics(specs: readonly TopicSpec[]): Promise<TopicWeakness[]> {
    await this.connect();
    if (specs.length === 0) return [];
    const names = specs.map((s) => s.topic);
    const [configs, metadata] = await Promise.all([
      this.admin.describeConfigs({ includeSynonyms: false, resources: names.map((name) => ({ type: TOPIC_RESOURCE, name, configNames: [...CHECKED_CONFIGS] })) }),
      this.admin.fetchTopicMetadata({ topics: names }),
    ]);
    const found: TopicWeakness[] = [];
    for (const spec of specs) {
      const req = await this.requirements(spec);
      const entries = configs.resources.find((r) => r.resourceName === spec.topic)?.configEntries ?? [];
      const value = (name: string) => entries.find((e) => e.configName === name)?.configValue;
      const partitions = metadata.topics.find((t) => t.name === spec.topic)?.partitions ?? [];
      const replicas = partitions.length === 0 ? undefined : Math.min(...partitions.map((p) => p.replicas.length));
      const weak = weaknesses(spec.topic, req, { cleanupPolicy: value('cleanup.policy'), retentionMs: value('retention.ms'), minInsyncReplicas: value('min.insync.replicas'), replicas });
      this.checked.add(spec.topic);
      if (weak.length === 0) {
        this.weak.delete(spec.topic);
        continue;
      }
      this.weak.set(spec.topic, weak);
      found.push(...weak);
      this.log.warn(
        { topic: spec.topic, weaker: weak.map((w) => ({ setting: w.setting, actual: w.actual, required: w.required })) },
        `topic ${spec.topic} is weaker than configured (${weak.map((w) => `${w.setting} ${w.actual} < ${w.required}`).join(', ')}); it is left as it is: see docs/operations.md "Topic settings"`,
      );
    }
    const all = this.weakSettings();
    for (const listener of this.listeners) listener(all);
    return found;
  }

  /** Every weaker setting found so far, over all checked topics. */
  weakSettings(): TopicWeakness[] {
    return [...this.weak.values()].flat();
  }

  /** Called with every weaker setting found so far, after each check (for the sync_kafka_topic_weaker gauge). */
  onTopicCheck(listener: (weak: readonly TopicWeakness[]) => void): void {
    this.listeners.push(listener);
  }

  async topicConfig(topic: string, name: string): Promise<string | undefined> {
    await this.connect();
    const res = await this.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: [name] }] });
    return res.resources[0]?.configEntries.find((e) => e.configName === name)?.configValue;
  }

  /** The configuration set on the topic itself (what `kafka-configs --describe` lists), without broker defaults. */
  async topicOverrides(topic: string): Promise<Record<string, string>> {
    await this.connect();
    const res = await this.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC_RESOURCE, name: topic }] });
    const entries = res.resources[0]?.configEntries ?? [];
    // configSource 1 is DYNAMIC_TOPIC_CONFIG in the DescribeConfigs protocol (kafkajs ConfigSource.TOPIC_CONFIG).
    return Object.fromEntries(entries.filter((e) => Number(e.configSource) === 1).map((e) => [e.configName, e.configValue]));
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
  /** Raises a topic's partition count to at least `count` (partitions can never be removed); true when it grew. */
  async growPartitions(topic: string, count: number): Promise<boolean> {
    await this.connect();
    const current = (await this.admin.fetchTopicOffsets(topic)).length;
    if (current >= count) return false;
    await this.admin.createPartitions({ topicPartitions: [{ topic, count }] });
    return true;
  }

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

function configEntries(req: TopicRequirements): Record<string, string> {
  return {
    ...(req.cleanupPolicy !== undefined && { 'cleanup.policy': req.cleanupPolicy }),
    ...(req.retentionMs !== undefined && { 'retention.ms': String(req.retentionMs) }),
    'min.insync.replicas': String(req.minInsyncReplicas),
  };
}

interface ActualSettings {
  readonly cleanupPolicy: string | undefined;
  readonly retentionMs: string | undefined;
  readonly minInsyncReplicas: string | undefined;
  readonly replicas: number | undefined;
}

/** The settings of one topic that fall short of its requirements (pure; exported for unit tests). */
export function weaknesses(topic: string, req: TopicRequirements, actual: ActualSettings): TopicWeakness[] {
  const out: TopicWeakness[] = [];
  const add = (setting: TopicSetting, value: string | number | undefined, required: string | number) =>
    out.push({ topic, setting, actual: value === undefined ? 'unknown' : String(value), required: String(required) });
  if (req.cleanupPolicy !== undefined) {
    // "compact,delete" on a command topic would drop older commands per key; on a compacted topic it would expire the latest state.
    const policies = (actual.cleanupPolicy ?? '').split(',').map((p) => p.trim()).filter((p) => p.length > 0);
    if (policies.length !== 1 || policies[0] !== req.cleanupPolicy) add('cleanup.policy', actual.cleanupPolicy, req.cleanupPolicy);
  }
  if (req.retentionMs !== undefined && req.cleanupPolicy !== 'compact') {
    const ms = Number(actual.retentionMs);
    const forever = (n: number) => n < 0;
    if (actual.retentionMs === undefined || !Number.isFinite(ms) || (!forever(ms) && (forever(req.retentionMs) || ms < req.retentionMs))) {
      add('retention.ms', actual.retentionMs, req.retentionMs);
    }
  }
  const isr = Number(actual.minInsyncReplicas);
  if (actual.minInsyncReplicas === undefined || !Number.isFinite(isr) || isr < req.minInsyncReplicas) add('min.insync.replicas', actual.minInsyncReplicas, req.minInsyncReplicas);
  if (actual.replicas === undefined || actual.replicas < req.replicationFactor) add('replication.factor', actual.replicas, req.replicationFactor);
  return out;
}
