/**
 * Throughput of domain-transform on a stated workload (npm run bench:domain-transform):
 *   1. the pure mapping engine, forward: N keyed updates of the users table of
 *      test/fixtures/mappings/users.pipeline.yaml (every one moves the address, every second one
 *      also renames the user: 1.5 domain events per change, CloudEvents encoding and JSON Schema
 *      validation included);
 *   2. the pure mapping engine, reverse: N UserChanged events from a new service to write-backs;
 *   3. end to end through Kafka: the same N keyed changes pre-loaded into a fresh keyed topic,
 *      timed from the transform consumer's start (and from its group join) until every domain
 *      event is on the domain topic (its end offsets; --read-back consumes them instead).
 * N defaults to 50,000 (first argument overrides; KAFKA_BROKERS, default 127.0.0.1:19092). Options:
 *   --workload=field-map             the same mappings with field paths only (UserChanged's email is
 *                                    `email`, not a JSONata function call): no JSONata evaluation at
 *                                    all; the target of issue 21 is stated for such mappings
 *   --phases=forward,reverse,kafka  run only these (to profile one with node --cpu-prof)
 *   --read-back                      phase 3 ends when a consumer in this process has read every event
 *   --profile=FILE                   a V8 CPU profile of phase 3's timed part only (not the preload),
 *                                    for scripts/bench/cpu-profile-top.ts
 *   --partitions=P                   partitions of the keyed and domain topics in phase 3 (default 1,
 *                                    what the apps create unless kafka.topics.partitions says otherwise)
 * Prints figures only; nothing is asserted.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
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

/** CPU time (user + system) this process used since `from`, in ms: on a shared machine a steadier figure than wall time. */
function cpuMs(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
}

function perCpu(count: number, cpu: number): string {
  return `${rate(count, cpu)} of CPU`;
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
  const cpu = process.cpuUsage();
  const start = performance.now();
  let outputs = 0;
  for (const input of inputs) outputs += (await engine.transform(input)).outputs.length;
  const ms = performance.now() - start;
  console.log(`pure engine, forward : ${n.toLocaleString('en-US')} keyed changes -> ${outputs.toLocaleString('en-US')} domain events in ${ms.toFixed(0)} ms = ${rate(n, ms)} changes, ${rate(outputs, ms)} events; ${perCpu(n, cpuMs(cpu))} changes`);
}

async function pureReverse(engine: MappingEngine, n: number): Promise<void> {
  const inputs: TransformInput[] = Array.from({ length: n }, (_, i) => ({
    topic: 'domain.user.v1',
    key: `gid-${i}`,
    value: Buffer.from(JSON.stringify({ name: `User ${i}`, email: `u${i}@example.org`, active: i % 3 !== 0, managerId: i % 2 ? null : `gid-${i + 1}` })),
    headers: { ce_id: `ce-${i}`, ce_source: '/services/profile', ce_type: 'UserChanged', ce_specversion: '1.0', ce_subject: `gid-${i}`, ce_time: '2025-01-02T03:04:05.000Z', 'content-type': 'application/json', origin: 'service:profile' },
  }));
  for (const input of inputs.slice(0, 1000)) await engine.transform(input);
  const cpu = process.cpuUsage();
  const start = performance.now();
  let outputs = 0;
  for (const input of inputs) outputs += (await engine.transform(input)).outputs.length;
  const ms = performance.now() - start;
  console.log(`pure engine, reverse : ${n.toLocaleString('en-US')} domain events -> ${outputs.toLocaleString('en-US')} write-back requests in ${ms.toFixed(0)} ms = ${rate(n, ms)}; ${perCpu(n, cpuMs(cpu))}`);
}

/** Starts the V8 CPU profiler; the returned function stops it and writes the profile to `file`. */
async function startProfile(file: string): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    console.log(`CPU profile of the timed part: ${file}`);
  };
}

async function throughKafka(yaml: string, n: number, brokers: readonly string[], partitions: number, readBack: boolean, profileFile: string | undefined): Promise<void> {
  const tag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const system = `bench_${tag}`;
  const aggregate = `user_${tag}`;
  const engine = engineFor(yaml.replace(/\bcrm\b/g, system).replace(/aggregate: user\b/g, `aggregate: ${aggregate}`));
  const connection = new KafkaConnection({ brokers, clientId: 'bench-domain-transform' }, silentLog);
  const producer = connection.producer();
  const admin = connection.admin({ partitions, replicationFactor: 1 });
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
  const metrics = new TransformMetrics(new MetricsRegistry('bench'));
  const transform = new TransformConsumer(engine, connection, producer, admin, { app: 'bench', groupPrefix: `bench-${tag}`, log: silentLog, metrics });
  const stopProfile = profileFile === undefined ? undefined : await startProfile(profileFile);
  const cpu = process.cpuUsage();
  const start = performance.now();
  await transform.start(); // resolves once the group is joined
  const joined = performance.now();
  // Completion is read from the domain topic's end offsets, not by consuming it: a reader in this
  // process would take its CPU from the transform (decoding 12 headers per event). --read-back
  // consumes the events instead (the method of the first figures in docs/performance.md).
  let seen = 0;
  if (readBack) {
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
    const timeout = setTimeout(() => done(), 300_000);
    await allSeen;
    clearTimeout(timeout);
    await reader.stop();
  } else {
    const deadline = performance.now() + 300_000;
    while (seen < expected && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = await admin.messageCount(domainTopic);
    }
  }
  const end = performance.now();
  const cpuUsed = cpuMs(cpu);
  await stopProfile?.();
  const total = end - start;
  const sustained = end - joined;
  console.log(
    `kafka end to end     : ${n.toLocaleString('en-US')} keyed changes (${partitions} partition${partitions === 1 ? '' : 's'}) -> ${seen.toLocaleString('en-US')}/${expected.toLocaleString('en-US')} domain events ${readBack ? 'read back' : 'on the topic'} in ${total.toFixed(0)} ms = ${rate(n, total)} changes, ${rate(seen, total)} events (group join included); ` +
      `after the join ${sustained.toFixed(0)} ms = ${rate(n, sustained)} changes, ${rate(seen, sustained)} events; ${perCpu(n, cpuUsed)} changes (this process, broker excluded)`,
  );
  await transform.stop();
  await producer.disconnect();
  await admin.disconnect();
}

const PHASES = ['forward', 'reverse', 'kafka'] as const;

/** The users fixture with its one computed forward field made a plain field (see --workload). */
function fieldMapOnly(yaml: string): string {
  const computed = 'email: "email = null ? null : $lowercase(email)"';
  if (!yaml.includes(computed)) throw new Error(`--workload=field-map: users.pipeline.yaml no longer has ${computed}; update the bench`);
  return yaml.replace(computed, 'email: email');
}

function parseArgs(argv: readonly string[]): { n: number; phases: Set<string>; partitions: number; readBack: boolean; fieldMap: boolean; profile: string | undefined } {
  let n = 50_000;
  let profile: string | undefined;
  let fieldMap = false;
  let readBack = false;
  let phases = new Set<string>(PHASES);
  let partitions = 1;
  for (const arg of argv) {
    if (arg.startsWith('--phases=')) {
      phases = new Set(arg.slice('--phases='.length).split(','));
      const unknown = [...phases].filter((p) => !(PHASES as readonly string[]).includes(p));
      if (unknown.length > 0 || phases.size === 0) throw new Error(`--phases: ${unknown.join(',') || '(empty)'} is not one of ${PHASES.join(', ')}`);
    } else if (arg === '--workload=field-map' || arg === '--workload=users') {
      fieldMap = arg === '--workload=field-map';
    } else if (arg.startsWith('--profile=')) {
      profile = arg.slice('--profile='.length);
      if (profile === '') throw new Error('--profile: needs a file name');
    } else if (arg === '--read-back') {
      readBack = true;
    } else if (arg.startsWith('--partitions=')) {
      partitions = Number(arg.slice('--partitions='.length));
      if (!Number.isInteger(partitions) || partitions < 1 || partitions > 64) throw new Error(`--partitions: ${arg.slice(13)} is not an integer from 1 to 64`);
    } else {
      n = Number(arg);
      if (!Number.isInteger(n) || n < 1) throw new Error(`N: ${arg} is not a positive integer`);
    }
  }
  return { n, phases, partitions, readBack, fieldMap, profile };
}

async function main(): Promise<void> {
  const env = loadEnv();
  const { n, phases, partitions, readBack, fieldMap, profile } = parseArgs(process.argv.slice(2));
  const users = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'mappings', 'users.pipeline.yaml'), 'utf8');
  const yaml = fieldMap ? fieldMapOnly(users) : users;
  console.log(`domain-transform benchmark, node ${process.version}, workload ${fieldMap ? 'field-map' : 'users'} (scripts/bench/domain-transform.bench.ts)`);
  const engine = engineFor(yaml);
  if (phases.has('forward')) await pureForward(engine, n);
  if (phases.has('reverse')) await pureReverse(engine, n);
  if (phases.has('kafka')) await throughKafka(yaml, n, env.kafka.brokers ?? ['127.0.0.1:19092'], partitions, readBack, profile);
}

runMain(main);
