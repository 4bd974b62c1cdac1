import { randomUUID } from 'node:crypto';
import type { KafkaClientPort } from './kafka-client.port';

/**
 * Timestamp (ms) of the newest message in a topic, reading only the last message of each
 * partition; undefined for an empty or missing topic.
 */
export async function latestMessageTime(kafka: KafkaClientPort, topic: string, timeoutMs = 20_000): Promise<number | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `latest-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  try {
    if (!(await admin.listTopics()).includes(topic)) return undefined;
    const lasts = (await admin.fetchTopicOffsets(topic)).filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => ({ partition: p.partition, offset: (BigInt(p.high) - 1n).toString() }));
    if (lasts.length === 0) return undefined;
    const pending = new Set(lasts.map((l) => l.partition));
    let newest = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const l of lasts) consumer.seek({ topic, partition: l.partition, offset: l.offset });
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) newest = Math.max(newest, Number(m.timestamp));
        if (batch.messages.length > 0) pending.delete(batch.partition);
        if (pending.size === 0) done();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    return newest > 0 ? newest : undefined;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
