import { randomUUID } from 'node:crypto';
import type { KafkaClientPort } from './kafka-client.port';
import { toInboundMessage } from './batch-consumer.runner';
import type { InboundMessage, LogSink } from './kafka.interface';

/**
 * Reads a compacted topic from its start to its current end and returns the latest message per
 * key (a tombstone removes the key). Used at start-up to load positions and switches.
 */
export async function readCompactedTopic(kafka: KafkaClientPort, topic: string, log: LogSink, timeoutMs = 60_000): Promise<Map<string, InboundMessage>> {
  const latest = new Map<string, InboundMessage>();
  await readTopicToEnd(kafka, topic, log, timeoutMs, (msg) => {
    const key = msg.key?.toString() ?? '';
    if (msg.value === null) latest.delete(key);
    else latest.set(key, msg);
  });
  return latest;
}

/** Calls `onMessage` for every message of a topic, from its start to its end when the call began. */
export async function readTopicToEnd(kafka: KafkaClientPort, topic: string, log: LogSink, timeoutMs: number, onMessage: (message: InboundMessage) => void): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `topic-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const remaining = new Map(ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
    if (remaining.size === 0) return;
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const end = remaining.get(batch.partition);
          if (end === undefined || BigInt(m.offset) >= end) continue;
          onMessage(toInboundMessage(batch.topic, batch.partition, m));
          if (BigInt(m.offset) + 1n >= end) remaining.delete(batch.partition);
        }
        if (remaining.size === 0) done();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`reading ${topic} did not reach its end within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([finished, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch((err: unknown) => log.debug({ err: String(err), groupId }, 'could not delete reader group'));
    await admin.disconnect().catch(() => undefined);
  }
}
