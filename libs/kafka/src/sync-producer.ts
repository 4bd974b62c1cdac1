import { CompressionTypes, Partitioners, type ProducerConfig, type IHeaders, type Message, type Producer, type TopicMessages } from 'kafkajs';
import type { KafkaClientPort } from './kafka-client.port';
import { DataError } from '@sync/errors';
import type { OutboundRecord } from './kafka.interface';

// kafkajs writes one record batch per partition per request and does not split it: past the
// broker's message.max.bytes (1 MiB by default) the whole send fails with MESSAGE_TOO_LARGE.
// 512 KiB per request and no compression were chosen by measurement (scripts/bench/producer.bench.ts,
// docs/performance.md "Producer settings").
const MAX_REQUEST_BYTES = 512 * 1024;

/** Producer knobs a benchmark varies; the apps use the defaults. */
export interface SyncProducerTuning {
  /** Uncompressed bytes per produce request (default 512 KiB). */
  readonly maxRequestBytes?: number;
  /** Record batch compression (default none; kafkajs ships gzip only). */
  readonly compression?: 'none' | 'gzip';
}

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
    const bytes = recordBytes(r);
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

/** Encoded size estimate of one record (key, value, headers and per-record overhead), as chunking counts it. */
export function recordBytes(r: OutboundRecord): number {
  let bytes = 70 + sizeOf(r.key) + sizeOf(r.value);
  const headers = r.headers;
  if (headers !== undefined) for (const name in headers) bytes += name.length + sizeOf(headers[name]) + 4;
  return bytes;
}

/**
 * The error for a record batch over the broker's or topic's max.message.bytes, found through causes:
 * kafkajs' MESSAGE_TOO_LARGE, or librdkafka's ERR_MSG_SIZE_TOO_LARGE (the Confluent client).
 */
export function isMessageTooLarge(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 10; depth++) {
    const type = (e as { type?: unknown }).type;
    if (type === 'MESSAGE_TOO_LARGE' || type === 'ERR_MSG_SIZE_TOO_LARGE') return true;
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.some(isMessageTooLarge)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
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
      // kafkajs only reads the headers (record encoder): no copy per record.
      ...(r.headers ? { headers: r.headers as IHeaders } : {}),
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
  private readonly maxRequestBytes: number;
  private readonly compression: CompressionTypes;
  private connected = false;

  constructor(kafka: KafkaClientPort, tuning: SyncProducerTuning = {}) {
    this.maxRequestBytes = tuning.maxRequestBytes ?? MAX_REQUEST_BYTES;
    this.compression = tuning.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
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
   * every one is acknowledged. A batch the broker refuses as too large is split and sent again;
   * one record it refuses on its own is a DataError (that record can never be written).
   */
  async send(records: readonly OutboundRecord[]): Promise<void> {
    for (const chunk of chunksBySize(records, this.maxRequestBytes)) await this.sendChunk(chunk);
  }

  private async sendChunk(chunk: readonly OutboundRecord[]): Promise<void> {
    try {
      await this.producer.sendBatch({ topicMessages: groupByTopic(chunk), acks: -1, compression: this.compression });
    } catch (err) {
      if (!isMessageTooLarge(err)) throw err;
      if (chunk.length === 1) {
        const r = chunk[0]!;
        throw new DataError(`${r.topic}: the broker refused a record of about ${recordBytes(r)} bytes as larger than its max.message.bytes (MESSAGE_TOO_LARGE)`, { cause: err });
      }
      const half = Math.ceil(chunk.length / 2);
      await this.sendChunk(chunk.slice(0, half));
      await this.sendChunk(chunk.slice(half));
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}

/**
 * The producer settings of SyncProducer for a kafkajs producer another library creates (e.g.
 * @nestjs/microservices' ClientKafka): idempotent, one request in flight, Java-compatible partitioning.
 */
export function syncProducerConfig(): ProducerConfig {
  return { idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false };
}
