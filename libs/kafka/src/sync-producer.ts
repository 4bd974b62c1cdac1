import { Partitioners, type Kafka, type Message, type Producer, type TopicMessages } from 'kafkajs';
import type { OutboundRecord } from './kafka.interface';

/** Groups records by topic, keeping their order within each topic. */
export function groupByTopic(records: readonly OutboundRecord[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const r of records) {
    let list = byTopic.get(r.topic);
    if (!list) byTopic.set(r.topic, (list = []));
    list.push({
      key: r.key,
      value: r.value,
      ...(r.headers ? { headers: { ...r.headers } } : {}),
      ...(r.partition !== undefined ? { partition: r.partition } : {}),
    });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * Idempotent producer: acks from all in-sync replicas, one request in flight per broker so
 * retries cannot reorder a key's messages, Java-compatible partitioning so other clients agree.
 */
export class SyncProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    this.producer.on(this.producer.events.CONNECT, () => (this.connected = true));
    this.producer.on(this.producer.events.DISCONNECT, () => (this.connected = false));
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** Sends all records in one batch request per broker; resolves once every one is acknowledged. */
  async send(records: readonly OutboundRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.producer.sendBatch({ topicMessages: groupByTopic(records), acks: -1 });
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}
