import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection, silentLog, stalledConsumers, type BatchConsumerRunner, type SyncProducer, type TopicAdmin } from '@sync/kafka';
import { testBrokers, uniqueName } from '../../support/test-env';
import { waitFor } from '../../support/wait-for';

const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'it-start-retry' }, silentLog);
const STALL_MS = 3_000;

/**
 * A consumer whose start fails (here: its topic does not exist yet, and consumers never create
 * topics) must not stay dead: it is started again with backoff. Meanwhile it makes no progress,
 * which is what /health/live reports (stalledConsumers) once it lasts longer than the limit.
 */
describe('a batch consumer whose start fails', () => {
  let producer: SyncProducer;
  let admin: TopicAdmin;
  const runners: BatchConsumerRunner[] = [];

  before(async () => {
    producer = connection.producer();
    await producer.connect();
    admin = connection.admin();
    await admin.connect();
  });
  after(async () => {
    for (const r of runners) await r.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  });

  it('is retried until its topic exists, then consumes; liveness is red while it cannot start and green once it runs', async () => {
    const topic = uniqueName('late-topic');
    const seen: string[] = [];
    const runner = connection.batchConsumer(producer, {
      app: uniqueName('itapp'),
      groupId: uniqueName('late'),
      topics: [topic],
      handler: async (messages) => void seen.push(...messages.map((m) => m.value?.toString() ?? '')),
    });
    runners.push(runner);
    await runner.start(); // resolves: the failure is retried in the background

    await waitFor('the failed start reported', () => runner.problem()?.includes('start failed') ?? false, 120_000, 100);
    const red = await waitFor('liveness red', () => stalledConsumers(runners, STALL_MS), 120_000, 200);
    assert.match(red, /has made no progress for \d+ s/);

    await admin.ensureTopics([{ topic }]);
    await producer.send([{ topic, key: 'k', value: 'after-create' }]);
    await waitFor('the message consumed after the topic was created', () => seen.includes('after-create'), 180_000, 200);
    assert.equal(runner.problem(), undefined);
    assert.equal(stalledConsumers(runners, STALL_MS), undefined, 'liveness green once it runs');

    // Idle but fetching is alive: liveness stays green over twice the limit.
    const until = Date.now() + 2 * STALL_MS;
    while (Date.now() < until) {
      assert.equal(stalledConsumers(runners, STALL_MS), undefined, 'an idle, fetching consumer is alive');
      await new Promise((r) => setTimeout(r, 250));
    }

    // Every topic held (entity paused): no fetch is expected, so no stall either.
    runner.pauseTopics([topic]);
    assert.equal(runner.stalledMs(), undefined);
  });
});
