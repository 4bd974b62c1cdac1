import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DLQ_HEADERS, KafkaConnection, type BatchConsumerRunner, type InboundMessage, type SyncProducer, type TopicAdmin } from '@sync/kafka';
import { DataError, EnvironmentError } from '@sync/errors';
import { kafkaBroker } from '../../support/infra';
import { testBrokers, testKafkaClient, testKafkaConnection, uniqueName } from '../../support/test-env';
import { waitFor } from '../../support/wait-for';

const APP = uniqueName('itapp');
const connection = testKafkaConnection({ brokers: testBrokers(), clientId: 'it-kafka' });
let producer: SyncProducer;
let admin: TopicAdmin;
const runners: BatchConsumerRunner[] = [];

function values(messages: readonly InboundMessage[]): string[] {
  return messages.map((m) => m.value?.toString() ?? '');
}

async function produce(topic: string, vals: readonly string[]): Promise<void> {
  await producer.send(vals.map((v) => ({ topic, key: 'k', value: v, headers: { origin: 'test' } })));
}

/** Reads every message currently in a topic with a throwaway group. */
async function readAll(topic: string, expected: number): Promise<InboundMessage[]> {
  const seen: InboundMessage[] = [];
  const reader = connection.batchConsumer(producer, {
    app: APP,
    groupId: uniqueName('reader'),
    topics: [topic],
    handler: async (batch) => void seen.push(...batch),
  });
  await reader.start();
  try {
    await waitFor(`${expected} messages in ${topic}`, () => seen.length >= expected, 30_000);
  } finally {
    await reader.stop();
  }
  return seen;
}

async function startRunner(options: Parameters<KafkaConnection['batchConsumer']>[1]): Promise<BatchConsumerRunner> {
  const runner = connection.batchConsumer(producer, options);
  runners.push(runner);
  await runner.start();
  return runner;
}

describe('libs/kafka on the real broker', () => {
  before(async () => {
    producer = connection.producer();
    await producer.connect();
    admin = connection.admin();
    await admin.ensureTopics([{ topic: `dlq.${APP}` }]);
  });

  after(async () => {
    for (const r of runners) await r.stop().catch(() => undefined);
    await producer.disconnect();
    await admin.disconnect();
  });

  it('creates compacted topics where asked and plain ones otherwise', async () => {
    const compacted = uniqueName('it.compacted');
    const plain = uniqueName('it.plain');
    const created = await admin.ensureTopics([{ topic: compacted, compacted: true, partitions: 3 }, { topic: plain }]);
    assert.deepEqual(created.sort(), [compacted, plain].sort());
    assert.equal(await admin.topicConfig(compacted, 'cleanup.policy'), 'compact');
    assert.equal(await admin.topicConfig(plain, 'cleanup.policy'), 'delete');
    assert.deepEqual(await admin.ensureTopics([{ topic: compacted, compacted: true }]), [], 'existing topics are left alone');
  });

  it('consumes in batches, in order, and commits offsets after processing', async () => {
    const topic = uniqueName('it.order');
    const groupId = uniqueName('g');
    await admin.ensureTopics([{ topic }]);
    const sent = Array.from({ length: 500 }, (_, i) => `m${i}`);
    await produce(topic, sent);
    const received: string[] = [];
    let batches = 0;
    await startRunner({ app: APP, groupId, topics: [topic], handler: async (batch) => {
      batches++;
      received.push(...values(batch));
    } });
    await waitFor('all 500 messages', () => received.length >= 500);
    assert.deepEqual(received, sent);
    assert.ok(batches < 500, `messages arrive in batches (${batches} batches for 500 messages)`);
    const committed = await waitFor('offset 500 committed', async () => {
      const offsets = await admin.committedOffsets(groupId, topic);
      return offsets.get(0) === '500' ? offsets : undefined;
    });
    assert.equal(committed.get(0), '500');
  });

  it('sends more than the broker accepts in one request by splitting it, in order', async () => {
    const topic = uniqueName('it.large');
    await admin.ensureTopics([{ topic }]);
    const big = Array.from({ length: 3000 }, (_, i) => `${i}:${'x'.repeat(1000)}`);
    await produce(topic, big);
    const got = await readAll(topic, 3000);
    assert.deepEqual(values(got), big);
  });

  it('retries a failing message a bounded number of times, dead-letters it with the reason, and moves on', async () => {
    const topic = uniqueName('it.poison');
    const groupId = uniqueName('g');
    await admin.ensureTopics([{ topic }]);
    await produce(topic, ['a', 'b', 'bad', 'c', 'd']);
    const applied: string[] = [];
    let badAttempts = 0;
    await startRunner({
      app: APP,
      groupId,
      topics: [topic],
      maxAttempts: 3,
      backoff: { initialMs: 10, maxMs: 50, jitter: 0 },
      handler: async (batch) => {
        if (values(batch).includes('bad')) {
          if (batch.length === 1) badAttempts++;
          throw new Error('cannot apply "bad"');
        }
        applied.push(...values(batch));
      },
    });
    await waitFor('the good messages', () => applied.length >= 4);
    assert.deepEqual(applied, ['a', 'b', 'c', 'd'], 'messages before and after the poison one are applied, in order');
    assert.equal(badAttempts, 3, 'the poison message was tried exactly maxAttempts times on its own');
    await waitFor('offset 5 committed', async () => (await admin.committedOffsets(groupId, topic)).get(0) === '5');

    const dead = (await readAll(`dlq.${APP}`, 1)).filter((m) => m.headers[DLQ_HEADERS.sourceTopic] === topic);
    assert.equal(dead.length, 1);
    const letter = dead[0]!;
    assert.equal(letter.value?.toString(), 'bad');
    assert.equal(letter.key?.toString(), 'k');
    assert.equal(letter.headers['origin'], 'test', 'original headers are kept');
    assert.equal(letter.headers[DLQ_HEADERS.reason], 'cannot apply "bad"');
    assert.equal(letter.headers[DLQ_HEADERS.sourceOffset], '2');
    assert.equal(letter.headers[DLQ_HEADERS.attempts], '3');
    assert.equal(letter.headers[DLQ_HEADERS.errorKind], 'unknown');
  });

  it('dead-letters a poison error at once and waits out transient errors without losing anything', async () => {
    const topic = uniqueName('it.kinds');
    const groupId = uniqueName('g');
    await admin.ensureTopics([{ topic }]);
    await produce(topic, ['x1', 'contract-violation', 'x2', 'flaky', 'x3']);
    const applied: string[] = [];
    let poisonAttempts = 0;
    let flakyFailures = 0;
    await startRunner({
      app: APP,
      groupId,
      topics: [topic],
      maxAttempts: 5,
      backoff: { initialMs: 10, maxMs: 50, jitter: 0 },
      handler: async (batch) => {
        for (const v of values(batch)) {
          if (v === 'contract-violation') {
            poisonAttempts += batch.length === 1 ? 1 : 0;
            throw new DataError('op: must be one of c, u, d, r');
          }
          if (v === 'flaky' && flakyFailures < 4) {
            flakyFailures++;
            throw new EnvironmentError('database is restarting');
          }
        }
        applied.push(...values(batch));
      },
    });
    await waitFor('the other messages', () => applied.includes('x3'));
    assert.deepEqual(applied, ['x1', 'x2', 'flaky', 'x3']);
    assert.equal(poisonAttempts, 1, 'a poison message is not retried');
    assert.equal(flakyFailures, 4, 'transient failures were retried past maxAttempts, not dead-lettered');
    const dead = (await readAll(`dlq.${APP}`, 2)).filter((m) => m.headers[DLQ_HEADERS.sourceTopic] === topic);
    assert.deepEqual(values(dead), ['contract-violation']);
    assert.equal(dead[0]!.headers[DLQ_HEADERS.errorKind], 'data');
  });

  it('a restarted consumer resumes from its committed offset', async () => {
    const topic = uniqueName('it.resume');
    const groupId = uniqueName('g');
    await admin.ensureTopics([{ topic }]);
    await produce(topic, ['1', '2', '3']);
    const first: string[] = [];
    const runner = await startRunner({ app: APP, groupId, topics: [topic], handler: async (b) => void first.push(...values(b)) });
    await waitFor('first three', () => first.length >= 3);
    await runner.stop();
    await produce(topic, ['4', '5']);
    const second: string[] = [];
    await startRunner({ app: APP, groupId, topics: [topic], handler: async (b) => void second.push(...values(b)) });
    await waitFor('the two new ones', () => second.length >= 2);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(first, ['1', '2', '3']);
    assert.deepEqual(second, ['4', '5'], 'nothing already committed is delivered again');
  });

  it('a deferral commits the handled prefix, lets other partitions go on, and offers the rest again in order', async () => {
    const waiting = uniqueName('it.defer');
    const gate = uniqueName('it.gate');
    const groupId = uniqueName('g');
    await admin.ensureTopics([{ topic: waiting }, { topic: gate }]);
    await produce(waiting, ['a1', 'a2', 'needs-gate', 'a3']);
    const applied: string[] = [];
    let gateOpen = false;
    let deferrals = 0;
    await startRunner({
      app: APP,
      groupId,
      topics: [waiting, gate],
      handler: async (batch) => {
        if (batch[0]!.topic === gate) {
          gateOpen = true;
          return;
        }
        const vals = values(batch);
        const stop = gateOpen ? -1 : vals.indexOf('needs-gate');
        applied.push(...(stop < 0 ? vals : vals.slice(0, stop)));
        if (stop < 0) return;
        deferrals++;
        return { handled: stop, retryAfterMs: 100 };
      },
    });
    await waitFor('the partition defers', () => deferrals >= 2);
    assert.deepEqual(applied, ['a1', 'a2']);
    assert.equal((await admin.committedOffsets(groupId, waiting)).get(0), '2', 'the handled prefix is committed');
    // The same consumer still takes the other topic while that partition waits.
    await produce(gate, ['open']);
    await waitFor('the rest after the gate opened', () => applied.includes('a3'), 30_000);
    assert.deepEqual(applied, ['a1', 'a2', 'needs-gate', 'a3'], 'nothing skipped, nothing handled twice, order kept');
    await waitFor('offset 4 committed', async () => (await admin.committedOffsets(groupId, waiting)).get(0) === '4');
  });

  it('stop() lets the batch in hand finish and commits it', async () => {
    const topic = uniqueName('it.stop');
    const groupId = uniqueName('g');
    await admin.ensureTopics([{ topic }]);
    await produce(topic, ['slow']);
    let finished = false;
    let entered = false;
    const runner = await startRunner({ app: APP, groupId, topics: [topic], handler: async () => {
      entered = true;
      await new Promise((r) => setTimeout(r, 1500));
      finished = true;
    } });
    await waitFor('handler entered', () => entered);
    await runner.stop();
    assert.equal(finished, true, 'stop waited for the batch');
    assert.equal((await admin.committedOffsets(groupId, topic)).get(0), '1');
  });

  // kafkajs gives a consumer up after a crash it calls non-retriable ("Failed to find group
  // coordinator" while a broker restarts: tulios/kafkajs#1630) and forgets paused topics when it
  // restarts one itself. The runner restarts every crash and keeps held topics held.
  it('a consumer that crashed while the broker was away is started again, and a held topic stays held until resumed', async () => {
    const live = uniqueName('it.crash.live');
    const heldTopic = uniqueName('it.crash.held');
    await admin.ensureTopics([{ topic: live }, { topic: heldTopic }]);
    const got: string[] = [];
    const crashes: string[] = [];
    const r = await startRunner({
      app: APP,
      groupId: uniqueName('g'),
      topics: [live, heldTopic],
      handler: async (batch) => void got.push(...batch.map((m) => `${m.topic === live ? 'live' : 'held'}:${m.value?.toString() ?? ''}`)),
      hooks: { onCrash: (err) => crashes.push(String(err)) },
    });
    await producer.send([{ topic: live, key: 'k', value: 'before' }]);
    await waitFor('the first message', () => got.includes('live:before'), 30_000);
    r.pauseTopics([heldTopic]);

    // kafkajs gives up without a broker and the runner starts it again; librdkafka (the Confluent
    // client) reconnects by itself and never crashes. Either way the held topic must stay held.
    const crashesOnOutage = testKafkaClient() === 'kafkajs';
    kafkaBroker('stop');
    try {
      if (crashesOnOutage) {
        await waitFor('the consumer crashes without a broker', () => crashes.length > 0, 120_000, 250);
        assert.match(r.problem() ?? '', /consumer crashed .*starting it again/, 'readiness names the crash');
      }
    } finally {
      kafkaBroker('start');
    }
    if (!crashesOnOutage) assert.deepEqual(crashes, [], 'librdkafka reconnects on its own');

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
