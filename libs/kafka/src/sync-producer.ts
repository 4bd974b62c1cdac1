import { Partitioners, type Kafka, type Message, type Producer, type TopicMessages } from 'kafkajs';
import type { OutboundRecord } from './kafka.interface';

// kafkajs writes one record batch per partition per request and does not split it: past the
// broker's message.max.bytes (1 MiB by default) the whole send fails with MESSAGE_TOO_LARGE.
const MAX_REQUEST_BYTES = 512 * 1024;

function sizeOf(value: string | Buffer | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/** Splits records, in order, into runs of at most `maxBytes` (estimated: key, value, headers, overhead). */
export function chunksBySize(records: readonly OutboundRecord[], maxBytes: number): OutboundRecord[][] {
  const chunks: OutboundRecord[][] = [];
  let current: OutboundRecord[] = [];
  let size = 0;
  for (const r of records) {
    let bytes = 70 + sizeOf(r.key) + sizeOf(r.value);
    for (const [name, value] of Object.entries(r.headers ?? {})) bytes += name.length + sizeOf(value) + 4;
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(r);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

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

  /**
   * Sends records in as few batch requests as fit the broker's size limit, in order; resolves once
   * every one is acknowledged.
   */
  async send(records: readonly OutboundRecord[]): Promise<void> {
    for (const chunk of chunksBySize(records, MAX_REQUEST_BYTES)) {
      await this.producer.sendBatch({ topicMessages: groupByTopic(chunk), acks: -1 });
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}
