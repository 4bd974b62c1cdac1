import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection, silentLog, type BatchConsumerRunner, type SyncProducer, type TopicAdmin } from '@sync/kafka';
import { kafkaBroker } from '../../support/infra';
import { testBrokers, uniqueName } from '../../support/test-env';
import { waitFor } from '../../support/wait-for';

// kafkajs gives a consumer up after a crash it calls non-retriable ("Failed to find group
// coordinator" while a broker restarts: tulios/kafkajs#1630) and forgets paused topics when it
// restarts one itself. The runner restarts every crash and keeps held topics held.
describe('libs/kafka: a consumer that crashed while the broker was away', () => {
  const APP = uniqueName('itcrash');
  const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'it-kafka-crash' }, silentLog);
  let producer: SyncProducer;
  let admin: TopicAdmin;
  let runner: BatchConsumerRunner | undefined;

  before(async () => {
    producer = connection.producer();
    await producer.connect();
    admin = connection.admin();
    await admin.ensureTopics([{ topic: `dlq.${APP}` }]);
  });

  after(async () => {
    await runner?.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  });

  it('is started again by the runner, consumes again, and a held topic stays held until resumed', async () => {
    const live = uniqueName('it.crash.live');
    const heldTopic = uniqueName('it.crash.held');
    await admin.ensureTopics([{ topic: live }, { topic: heldTopic }]);
    const got: string[] = [];
    const crashes: string[] = [];
    runner = connection.batchConsumer(producer, {
      app: APP,
      groupId: uniqueName('g'),
      topics: [live, heldTopic],
      handler: async (batch) => void got.push(...batch.map((m) => `${m.topic === live ? 'live' : 'held'}:${m.value?.toString() ?? ''}`)),
      hooks: { onCrash: (err) => crashes.push(String(err)) },
    });
    await runner.start();
    const r = runner;
    await producer.send([{ topic: live, key: 'k', value: 'before' }]);
    await waitFor('the first message', () => got.includes('live:before'), 30_000);
    r.pauseTopics([heldTopic]);

    kafkaBroker('stop');
    try {
      await waitFor('the consumer crashes without a broker', () => crashes.length > 0, 120_000, 250);
      assert.match(r.problem() ?? '', /consumer crashed .*starting it again/, 'readiness names the crash');
    } finally {
      kafkaBroker('start');
    }

    await waitFor('the consumer is back in its group', () => (r.problem() === undefined ? true : undefined), 120_000, 250);
    await producer.send([
      { topic: heldTopic, key: 'k', value: 'while held' },
      { topic: live, key: 'k', value: 'after' },
    ]);
    await waitFor('a message sent after the restart', () => got.includes('live:after'), 60_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.ok(!got.includes('held:while held'), 'the held topic was not consumed after the restart');

    r.resumeTopics([heldTopic]);
    await waitFor('the held message after resume', () => got.includes('held:while held'), 30_000);
    assert.deepEqual(got.filter((g) => g.startsWith('live:')), ['live:before', 'live:after'], 'nothing lost or repeated');
  });
});
