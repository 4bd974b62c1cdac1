/**
 * Throughput of domain-transform on a stated workload (npm run bench:domain-transform):
 *   1. the pure mapping engine, forward: N keyed updates of the users table of
 *      test/fixtures/mappings/users.pipeline.yaml (every one moves the address, every second one
 *      also renames the user: 1.5 domain events per change, CloudEvents encoding and JSON Schema
 *      validation included);
 *   2. the pure mapping engine, reverse: N UserChanged events from a new service to write-backs;
 *   3. end to end through Kafka: the same N keyed changes pre-loaded into a fresh keyed topic,
 *      timed from the transform consumer's start until every domain event is read back.
 * N defaults to 50,000 (first argument overrides; KAFKA_BROKERS, default 127.0.0.1:19092). Prints
 * figures only; nothing is asserted.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadEnv, parsePipeline } from '@sync/config';
import { Topics, type KeyedChangeEvent } from '@sync/contracts';
import { KafkaConnection, silentLog, type OutboundRecord } from '@sync/kafka';
import { loadMappings, MapperRegistry, MappingEngine, type TransformInput } from '@sync/mapping';
import { MetricsRegistry } from '@sync/observability';
import { TransformConsumer } from '../../apps/domain-transform/src/transform.consumer';
import { TransformMetrics } from '../../apps/domain-transform/src/transform-metrics';
import { repoRoot, runMain } from '../lib/script-main';


function engineFor(yaml: string): MappingEngine {
  const mappers = new MapperRegistry();
  return new MappingEngine(loadMappings(parsePipeline(yaml, 'bench.yaml'), mappers), mappers);
}

function keyedChange(system: string, i: number): KeyedChangeEvent {
  const before = { id: i, name: `User ${i}`, email: `USER${i}@example.org`, street: `${i} Main St`, city: 'Leeds', zip: 10000 + (i % 90000), active: 1, manager_id: null };
  const after = { ...before, city: 'York', ...(i % 2 === 0 ? { name: `User ${i} Renamed` } : {}) };
  return {
    op: 'u',
    before,
    after,
    source: { system, schema: 'public', table: 'users', position: String(i), committedAt: '2025-01-02T03:04:05.000Z', txId: null },
    ts_ms: 1735787045000,
    globalId: `gid-${i % 5000}`,
    references: { manager_id: null },
  };
}

function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en-US')}/s`;
}

async function pureForward(engine: MappingEngine, n: number): Promise<void> {
  const inputs: TransformInput[] = Array.from({ length: n }, (_, i) => ({
    topic: 'keyed.crm.public.users',
    key: `gid-${i % 5000}`,
    value: Buffer.from(JSON.stringify(keyedChange('crm', i))),
    headers: { 'event-id': `evt-${i}`, origin: 'legacy:crm' },
  }));
  for (const input of inputs.slice(0, 1000)) await engine.transform(input); // warm-up
  const start = performance.now();
  let outputs = 0;
  for (const input of inputs) outputs += (await engine.transform(input)).outputs.length;
  const ms = performance.now() - start;
  console.log(`pure engine, forward : ${n.toLocaleString('en-US')} keyed changes -> ${outputs.toLocaleString('en-US')} domain events in ${ms.toFixed(0)} ms = ${rate(n, ms)} changes, ${rate(outputs, ms)} events`);
}

async function pureReverse(engine: MappingEngine, n: number): Promise<void> {
  const inputs: TransformInput[] = Array.from({ length: n }, (_, i) => ({
    topic: 'domain.user.v1',
    key: `gid-${i}`,
    value: Buffer.from(JSON.stringify({ name: `User ${i}`, email: `u${i}@example.org`, active: i % 3 !== 0, managerId: i % 2 ? null : `gid-${i + 1}` })),
    headers: { ce_id: `ce-${i}`, ce_source: '/services/profile', ce_type: 'UserChanged', ce_specversion: '1.0', ce_subject: `gid-${i}`, ce_time: '2025-01-02T03:04:05.000Z', 'content-type': 'application/json', origin: 'service:profile' },
  }));
  for (const input of inputs.slice(0, 1000)) await engine.transform(input);
  const start = performance.now();
  let outputs = 0;
  for (const input of inputs) outputs += (await engine.transform(input)).outputs.length;
  const ms = performance.now() - start;
  console.log(`pure engine, reverse : ${n.toLocaleString('en-US')} domain events -> ${outputs.toLocaleString('en-US')} write-back requests in ${ms.toFixed(0)} ms = ${rate(n, ms)}`);
}

async function throughKafka(yaml: string, n: number, brokers: readonly string[]): Promise<void> {
  const tag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const system = `bench_${tag}`;
  const aggregate = `user_${tag}`;
  const engine = engineFor(yaml.replace(/\bcrm\b/g, system).replace(/aggregate: user\b/g, `aggregate: ${aggregate}`));
  const connection = new KafkaConnection({ brokers, clientId: 'bench-domain-transform' }, silentLog);
  const producer = connection.producer();
  const admin = connection.admin();
  await producer.connect();
  const keyedTopic = Topics.keyed({ system, schema: 'public', table: 'users' });
  const domainTopic = Topics.domain(aggregate, 1);
  await admin.ensureTopics([{ topic: keyedTopic }, { topic: domainTopic }]);
  for (let from = 0; from < n; from += 1000) {
    const records: OutboundRecord[] = [];
    for (let i = from; i < Math.min(n, from + 1000); i++) {
      const change = keyedChange(system, i);
      records.push({ topic: keyedTopic, key: change.globalId, value: JSON.stringify(change), headers: { 'event-id': `evt-${i}`, origin: `legacy:${system}` } });
    }
    await producer.send(records);
  }
  const expected = n + Math.ceil(n / 2);
  let seen = 0;
  let done: () => void = () => undefined;
  const allSeen = new Promise<void>((resolve) => (done = resolve));
  const reader = connection.batchConsumer(producer, {
    app: 'bench', groupId: `bench-reader-${tag}`, topics: [domainTopic], maxBytesPerPartition: 10_485_760,
    handler: async (batch) => {
      seen += batch.length;
      if (seen >= expected) done();
    },
  });
  await reader.start();
  const transform = new TransformConsumer(engine, connection, producer, admin, { app: 'bench', groupPrefix: `bench-${tag}`, log: silentLog, metrics: new TransformMetrics(new MetricsRegistry('bench')) });
  const start = performance.now();
  await transform.start();
  const timeout = setTimeout(() => done(), 300_000);
  await allSeen;
  clearTimeout(timeout);
  const ms = performance.now() - start;
  console.log(`kafka end to end     : ${n.toLocaleString('en-US')} keyed changes (1 partition) -> ${seen.toLocaleString('en-US')}/${expected.toLocaleString('en-US')} domain events read back in ${ms.toFixed(0)} ms = ${rate(n, ms)} changes, ${rate(seen, ms)} events (consumer group join included)`);
  await transform.stop();
  await reader.stop();
  await producer.disconnect();
  await admin.disconnect();
}

async function main(): Promise<void> {
  const env = loadEnv();
  const n = Number(process.argv[2] ?? 50_000);
  const yaml = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'mappings', 'users.pipeline.yaml'), 'utf8');
  console.log(`domain-transform benchmark, node ${process.version}, workload in scripts/bench/domain-transform.bench.ts`);
  const engine = engineFor(yaml);
  await pureForward(engine, n);
  await pureReverse(engine, n);
  await throughKafka(yaml, n, env.kafka.brokers ?? ['127.0.0.1:19092']);
}

runMain(main);
