import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { KafkaCoreService, type AppContext } from '@sync/app-core';
import { loadEnv, loadPipelineFile, parsePipeline } from '@sync/config';
import { topicPolicy, Topics } from '@sync/contracts';
import type { TopicAdmin } from '@sync/kafka';
import { createLogger, LivenessRegistry, MetricsRegistry, ReadinessRegistry } from '@sync/observability';
import { repoRoot, testBrokers, uniqueName, testKafkaClient, testKafkaConnection } from '../../support/test-env';

const APP = 'domain-transform';
const HOUR = 3_600_000;

// The shared test broker is a single broker: replication factor min(3, 1) = 1, min.insync.replicas 1.
const { kafka: pipelineKafka } = parsePipeline(
  `version: 1
kafka:
  topics: { retentionHours: { commands: 48, technical: 30, deadLetter: 500 } }
systems:
  crm:
    dialect: postgres
    connection: { url: { env: CRM_DATABASE_URL } }
    tables:
      - name: users
        key: [id]
`,
  'topic-settings.yaml',
);

/** A table ref whose topics are unique to this run. */
const ref = () => ({ system: uniqueName('ts').toLowerCase().replace(/[^a-z0-9_]/g, '_'), schema: 'public', table: 'users' });

describe('topic settings on the real broker', () => {
  const connection = testKafkaConnection({ brokers: testBrokers(), clientId: 'it-topic-settings' });
  let byHand: TopicAdmin;
  const warnings: Array<{ topic?: string; msg?: string; weaker?: Array<{ setting: string; actual: string; required: string }> }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        const entry = JSON.parse(line) as { level: number | string; topic?: string; msg?: string };
        if (entry.level === 40 || entry.level === 'warn') warnings.push(entry);
      }
      done();
    },
  });
  const ctx: AppContext = {
    app: APP,
    env: loadEnv({ SYNC_APP: APP, KAFKA_BROKERS: testBrokers().join(',') }),
    pipeline: loadPipelineFile(path.join(repoRoot, 'test', 'fixtures', 'pipeline', 'e2e.pipeline.yaml')),
    kafka: { brokers: testBrokers(), clientId: 'it-topic-settings-app', client: testKafkaClient() },
    topicPolicy: topicPolicy(pipelineKafka.topics),
    logger: createLogger(APP, 'warn', sink),
  };
  const metrics = new MetricsRegistry(APP);
  const core = new KafkaCoreService(ctx, new ReadinessRegistry(), metrics, new LivenessRegistry());

  async function weakerGauge(topic: string): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const line of (await metrics.render()).split('\n')) {
      const m = /^sync_kafka_topic_weaker\{(.*)\} (\S+)$/.exec(line);
      if (!m || !m[1]!.includes(`topic="${topic}"`)) continue;
      found.set(/setting="([^"]+)"/.exec(m[1]!)![1]!, Number(m[2]));
    }
    return found;
  }

  before(async () => {
    byHand = connection.admin();
    await byHand.connect();
    core.onApplicationBootstrap();
    await core.whenConnected();
  });

  after(async () => {
    await core.beforeApplicationShutdown();
    await byHand.disconnect().catch(() => undefined);
  });

  it('creates each class of topic with its retention, cleanup policy and min.insync.replicas', async () => {
    const table = ref();
    const command = Topics.writeback(table);
    const technical = Topics.legacy(table);
    const dlq = Topics.dlq(`${table.system}-app`.replace(/_/g, '-'));
    const state = uniqueName('it.state');
    const created = await core.admin.ensureTopics([{ topic: command }, { topic: technical }, { topic: dlq }, { topic: state, compacted: true }]);
    assert.deepEqual([...created].sort(), [command, technical, dlq, state].sort());

    assert.deepEqual(await core.admin.topicOverrides(command), { 'cleanup.policy': 'delete', 'retention.ms': String(48 * HOUR), 'min.insync.replicas': '1' });
    assert.deepEqual(await core.admin.topicOverrides(technical), { 'cleanup.policy': 'delete', 'retention.ms': String(30 * HOUR), 'min.insync.replicas': '1' });
    assert.deepEqual(await core.admin.topicOverrides(dlq), { 'cleanup.policy': 'delete', 'retention.ms': String(500 * HOUR), 'min.insync.replicas': '1' });
    // Compacted: the latest value per key is kept with no time limit, so no retention.ms is set.
    assert.deepEqual(await core.admin.topicOverrides(state), { 'cleanup.policy': 'compact', 'min.insync.replicas': '1' });
    assert.deepEqual(await core.admin.checkTopics([{ topic: command }, { topic: technical }, { topic: dlq }, { topic: state, compacted: true }]), [], 'what it created meets its own settings');
    assert.deepEqual(await weakerGauge(command), new Map());
  });

  it('warns once per existing topic weaker than configured, sets the gauge, and leaves the topic as it is', async () => {
    const table = ref();
    const command = Topics.resolved(table);
    const state = uniqueName('it.state');
    // Created by hand, as an operator (or an older version) might have: 1 h retention, no compaction.
    await byHand.ensureTopics([{ topic: command, config: { 'retention.ms': String(HOUR) } }, { topic: state }]);
    const before = warnings.length;

    assert.deepEqual(await core.admin.ensureTopics([{ topic: command }, { topic: state, compacted: true }]), [], 'nothing created');

    const mine = warnings.slice(before).filter((w) => w.topic === command || w.topic === state);
    assert.equal(mine.filter((w) => w.topic === command).length, 1, 'one warning for the command topic');
    assert.equal(mine.filter((w) => w.topic === state).length, 1, 'one warning for the state topic');
    const commandWarning = mine.find((w) => w.topic === command)!;
    assert.deepEqual(commandWarning.weaker, [{ setting: 'retention.ms', actual: String(HOUR), required: String(48 * HOUR) }]);
    assert.match(commandWarning.msg ?? '', /weaker than configured.*retention\.ms 3600000 < 172800000/);
    assert.deepEqual(mine.find((w) => w.topic === state)!.weaker?.map((w) => w.setting), ['cleanup.policy']);

    assert.deepEqual(await weakerGauge(command), new Map([['retention.ms', 1]]));
    assert.deepEqual(await weakerGauge(state), new Map([['cleanup.policy', 1]]));

    // Never altered automatically: the operator fixes it (docs/operations.md "Topic settings").
    assert.equal(await core.admin.topicConfig(command, 'retention.ms'), String(HOUR));
    assert.equal(await core.admin.topicConfig(state, 'cleanup.policy'), 'delete');

    // Checked once per admin: a second ensureTopics does not warn again.
    const again = warnings.length;
    await core.admin.ensureTopics([{ topic: command }]);
    assert.equal(warnings.slice(again).filter((w) => w.topic === command).length, 0);
  });
});
