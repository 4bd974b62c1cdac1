import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataError } from '@sync/errors';
import { stalledConsumers, type BatchConsumerRunner, type SyncProducer, type TopicAdmin } from '@sync/kafka';
import { testBrokers, uniqueName, testKafkaConnection } from '../../support/test-env';
import { waitFor } from '../../support/wait-for';

const connection = testKafkaConnection({ brokers: testBrokers(), clientId: 'it-start-retry' });
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

/**
 * While an app stops, a batch can fail because of the stop itself (a pool already closing, a wait
 * cut short). Whatever kind that failure claims, it must be neither dead-lettered nor committed:
 * the message is delivered again after the restart.
 */
describe('a batch that fails while its consumer stops', () => {
  let producer: SyncProducer;
  let admin: TopicAdmin;

  before(async () => {
    producer = connection.producer();
    await producer.connect();
    admin = connection.admin();
    await admin.connect();
  });
  after(async () => {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  });

  it('is abandoned: no dead letter, no commit, delivered again to the next consumer of the group', async () => {
    const app = uniqueName('itapp');
    const topic = uniqueName('stop-fail');
    const groupId = uniqueName('stop-fail');
    await admin.ensureTopics([{ topic }, { topic: `dlq.${app}` }]);
    // One send, one batch: it fails as a whole, so the runner retries its messages one by one, and
    // the stop comes while the first of those is in the handler.
    await producer.send([
      { topic, key: 'k', value: 'v1' },
      { topic, key: 'k', value: 'v2' },
    ]);
    let entered = false;
    const first = connection.batchConsumer(producer, {
      app,
      groupId,
      topics: [topic],
      handler: async (messages, ctx) => {
        if (messages.length > 1) throw new Error('one of these is bad');
        entered = true;
        if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        // What pg says when the pool was ended under the batch, claimed as data on purpose.
        throw new DataError('Cannot use a pool after calling end on the pool');
      },
    });
    await first.start();
    await waitFor('the batch in the handler', () => entered, 60_000, 50);
    await first.stop();

    const seen: string[] = [];
    const second = connection.batchConsumer(producer, { app, groupId, topics: [topic], handler: async (messages) => void seen.push(...messages.map((m) => m.value?.toString() ?? '')) });
    await second.start();
    try {
      await waitFor('both messages delivered again', () => seen.includes('v1') && seen.includes('v2'), 60_000, 100);
    } finally {
      await second.stop();
    }
    assert.deepEqual(await connection.readAll(`dlq.${app}`), [], 'nothing dead-lettered');
  });
});
