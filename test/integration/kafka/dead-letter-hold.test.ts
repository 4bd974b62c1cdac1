import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataError } from '@sync/errors';
import { type BatchConsumerRunner, type SyncProducer, type TopicAdmin } from '@sync/kafka';
import { testBrokers, uniqueName, testKafkaConnection } from '../../support/test-env';
import { waitFor } from '../../support/wait-for';

const connection = testKafkaConnection({ brokers: testBrokers(), clientId: 'it-dead-letter-hold' });

/**
 * Dead-lettering is bounded: when the DLQ refuses the dead letter (here the DLQ topic accepts no
 * record larger than 64 bytes, so the broker answers MESSAGE_TOO_LARGE), the runner does not retry
 * for ever and does not skip the message: it holds the partition with a status and tries again
 * later. Once the DLQ accepts it, the dead letter is written and the messages behind it follow.
 */
describe('a dead letter the DLQ refuses', () => {
  let producer: SyncProducer;
  let admin: TopicAdmin;
  let runner: BatchConsumerRunner | undefined;

  before(async () => {
    producer = connection.producer();
    await producer.connect();
    admin = connection.admin({ partitions: 1, replicationFactor: 1 });
    await admin.connect();
  });
  after(async () => {
    await runner?.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  });

  it('holds its partition with a status (nothing skipped, nothing committed past it) and goes on once the DLQ accepts it', async () => {
    const app = uniqueName('itdlqhold').toLowerCase();
    const topic = uniqueName('it.dlqhold');
    const dlq = `dlq.${app}`;
    const groupId = uniqueName('g');
    await admin.ensureTopics([{ topic }, { topic: dlq, config: { 'max.message.bytes': '64' } }]);
    const applied: string[] = [];
    runner = connection.batchConsumer(producer, {
      app,
      groupId,
      topics: [topic],
      deadLetterAttempts: 2,
      blockedRetryMs: 1_000,
      backoff: { initialMs: 50, maxMs: 200, jitter: 0 },
      handler: async (messages) => {
        for (const m of messages) {
          const value = m.value?.toString() ?? '';
          if (value === 'bad') throw new DataError('bad value');
          if (!applied.includes(value)) applied.push(value); // idempotent: a failed batch is offered again one by one
        }
      },
    });
    await runner.start();
    await producer.send(['a', 'bad', 'c'].map((value) => ({ topic, key: 'k', value })));

    const held = await waitFor('the partition held', () => runner!.blockedPartitions().find((b) => b.topic === topic), 60_000, 100);
    assert.match(held.reason, /dead letter for offset 1 could not be written to dlq\./);
    assert.deepEqual(applied, ['a'], 'nothing behind the message is applied while it is held');
    const committed = await admin.committedOffsets(groupId, topic);
    assert.ok(BigInt(committed.get(0) ?? '-1') <= 1n, `nothing committed past the held message (committed ${committed.get(0)})`);

    await admin.setTopicConfig(dlq, { 'max.message.bytes': '1048588' });
    await waitFor('the message behind it applied', () => applied.includes('c'), 60_000, 100);
    assert.deepEqual(applied, ['a', 'c']);
    assert.equal(await admin.messageCount(dlq), 1, 'the dead letter was written once');
    await waitFor('the hold released', () => runner!.blockedPartitions().length === 0, 30_000, 100);
  });
});
