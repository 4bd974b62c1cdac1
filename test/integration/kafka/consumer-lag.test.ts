import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KafkaCoreService, type AppContext } from '@sync/app-core';
import { loadEnv, loadPipelineFile } from '@sync/config';
import { KafkaConnection, silentLog, type BatchConsumerRunner, type InboundMessage, type SyncProducer } from '@sync/kafka';
import { createLogger, LivenessRegistry, MetricsRegistry, ReadinessRegistry } from '@sync/observability';
import { repoRoot, testBrokers, uniqueName, testKafkaClient, testKafkaConnection } from '../../support/test-env';
import { waitFor } from '../../support/wait-for';

const APP = 'domain-transform';

/** `partition → value` of one metric for one group and topic, as Prometheus would scrape it. */
async function scrape(metrics: MetricsRegistry, name: string, group: string, topic: string): Promise<Map<number, number>> {
  const found = new Map<number, number>();
  for (const line of (await metrics.render()).split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (labels['group'] !== group || labels['topic'] !== topic) continue;
    assert.equal(labels['app'], APP);
    const partition = Number(labels['partition']);
    assert.ok(!found.has(partition), `partition ${partition} reported twice by one app`);
    found.set(partition, Number(m[3]));
  }
  return found;
}

function described(map: Map<number, number>): string {
  return JSON.stringify(Object.fromEntries(map));
}

describe('consumer-group lag metrics on the real broker', () => {
  const runners: BatchConsumerRunner[] = [];
  const ctx: AppContext = {
    app: APP,
    // CONSUMER_LAG_REFRESH_MS goes through the same validated environment the apps read.
    env: loadEnv({ SYNC_APP: APP, KAFKA_BROKERS: testBrokers().join(','), CONSUMER_LAG_REFRESH_MS: '1000' }),
    pipeline: loadPipelineFile(path.join(repoRoot, 'test', 'fixtures', 'pipeline', 'e2e.pipeline.yaml')),
    kafka: { brokers: testBrokers(), clientId: 'it-consumer-lag', client: testKafkaClient() },
    topicPolicy: { partitions: 1 },
    logger: createLogger(APP, 'warn'),
  };
  const metrics = new MetricsRegistry(APP);
  const core = new KafkaCoreService(ctx, new ReadinessRegistry(), metrics, new LivenessRegistry());

  async function produce(topic: string, partition: number, count: number): Promise<void> {
    const records = Array.from({ length: count }, (_, i) => ({ topic, partition, key: `k${i}`, value: `v${i}`, headers: { origin: 'test' } }));
    await core.producer.send(records);
  }

  before(async () => {
    core.onApplicationBootstrap();
    await core.whenConnected();
  });

  after(async () => {
    for (const r of runners) await r.stop().catch(() => undefined);
    await core.beforeApplicationShutdown();
  });

  it('an app reports the lag of a held partition as the messages produced meanwhile, and 0 once resumed and consumed', async () => {
    const topic = uniqueName('it.lag');
    const groupId = uniqueName('g');
    await core.admin.ensureTopics([{ topic, partitions: 2 }]);
    const received: InboundMessage[] = [];
    const runner = core.connection.batchConsumer(core.producer, { app: APP, groupId, topics: [topic], handler: async (batch) => void received.push(...batch) });
    runners.push(runner);
    await runner.start();
    await produce(topic, 0, 3);
    await waitFor('the first 3 messages consumed and both partitions at lag 0', async () => {
      const lag = await scrape(metrics, 'sync_consumer_lag_messages', groupId, topic);
      return received.length === 3 && lag.get(0) === 0 && lag.get(1) === 0;
    }, 60_000, 200);

    const N = 25;
    runner.pauseTopics([topic]);
    await produce(topic, 0, N);
    let lag = new Map<number, number>();
    await waitFor(`lag of partition 0 = ${N} while held`, async () => {
      lag = await scrape(metrics, 'sync_consumer_lag_messages', groupId, topic);
      return lag.get(0) === N;
    }, 60_000, 200).catch((err: Error) => assert.fail(`${err.message}; last scrape ${described(lag)}`));
    assert.equal(lag.get(1), 0, 'the partition without new messages stays at 0');
    assert.ok(received.length < 3 + N, 'the held topic was not consumed');
    const seconds = await scrape(metrics, 'sync_consumer_lag_seconds', groupId, topic);
    assert.ok((seconds.get(0) ?? -1) >= 0, `lag in seconds is reported for the held partition: ${described(seconds)}`);

    runner.resumeTopics([topic]);
    await waitFor('lag of partition 0 back to 0 once resumed', async () => {
      lag = await scrape(metrics, 'sync_consumer_lag_messages', groupId, topic);
      return lag.get(0) === 0;
    }, 60_000, 200).catch((err: Error) => assert.fail(`${err.message}; last scrape ${described(lag)}`));
    assert.equal(received.length, 3 + N, 'every message was consumed');
    assert.equal((await scrape(metrics, 'sync_consumer_lag_seconds', groupId, topic)).get(0), 0);
    assert.equal(await core.admin.groupLag(groupId, topic), 0, "the broker's view of the group agrees");
  });

  it('two replicas of one group each report only the partitions they own: their sum is the group lag, nothing counted twice', async () => {
    const topic = uniqueName('it.lag2');
    const groupId = uniqueName('g');
    await core.admin.ensureTopics([{ topic, partitions: 2 }]);
    await produce(topic, 0, 5);
    await produce(topic, 1, 9);
    // A second replica: its own connection and registry, wired as the apps wire theirs.
    const otherConnection = testKafkaConnection(ctx.kafka, silentLog, { consumerLagRefreshMs: 1000 });
    const otherMetrics = new MetricsRegistry(APP);
    otherMetrics.consumerLag(() => otherConnection.consumerLag());
    const other: SyncProducer = otherConnection.producer();
    await other.connect();
    try {
      const start = async (connection: KafkaConnection, producer: SyncProducer): Promise<void> => {
        const runner = connection.batchConsumer(producer, { app: APP, groupId, topics: [topic], handler: async () => assert.fail('held: nothing is consumed') });
        runners.push(runner);
        await runner.start();
        runner.pauseTopics([topic]);
      };
      await start(core.connection, core.producer);
      await start(otherConnection, other);
      let a = new Map<number, number>();
      let b = new Map<number, number>();
      await waitFor('each replica reporting one partition', async () => {
        a = await scrape(metrics, 'sync_consumer_lag_messages', groupId, topic);
        b = await scrape(otherMetrics, 'sync_consumer_lag_messages', groupId, topic);
        return a.size === 1 && b.size === 1;
      }, 90_000, 250).catch((err: Error) => assert.fail(`${err.message}; last scrapes ${described(a)} ${described(b)}`));
      const union = new Map([...a, ...b]);
      assert.deepEqual(Object.fromEntries(union), { 0: 5, 1: 9 }, `a=${described(a)} b=${described(b)}`);
      assert.equal([...a.values(), ...b.values()].reduce((s, v) => s + v, 0), await core.admin.groupLag(groupId, topic));
    } finally {
      for (const r of runners.splice(0)) await r.stop().catch(() => undefined);
      await other.disconnect();
    }
  });
});
