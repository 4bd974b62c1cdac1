/**
 * Throughput of each stage with 1 and with 2 replicas, in one run (npm run bench:scale). Per
 * stage and replica count, on fresh topics of P partitions (default 4) and fresh databases:
 *   - the stage's app is started as R separate processes (dist/apps/<app>/src/main.js, one
 *     consumer group), and the run waits until every replica is ready;
 *   - N input messages (default 20,000; first argument) are produced to the stage's input topic,
 *     keyed over 2,000 rows, spread over the partitions by key;
 *   - timed from the first send until the group's committed offsets reach the end of the input.
 * Stages: id-translation (legacy.* → keyed.*, key map in PostgreSQL), domain-transform (keyed.* →
 * domain.*), legacy-writeback (resolved.* → PostgreSQL rows, inbox and trigger capture on).
 * legacy-import (legacy rows → legacy.* topics; two tables, users and orders, the work units its
 * replicas lease): N rows inserted in 1,000-row statements, half into each table, timed from the
 * first insert until both legacy topics hold them all.
 * Prints, per round, messages/s (wall), the CPU-seconds of the replicas (from /proc) and the load
 * average; per stage, the ratio 2 replicas / 1 replica. Writes bench-results/scale.json. On a
 * shared 2-core machine the ratio says as much about the machine as about the design: read it with
 * the CPU-seconds and the load average next to it (docs/scaling.md). Options: --partitions=P,
 * --stages=id-translation,domain-transform,legacy-writeback. Nothing is asserted.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Topics } from '@sync/contracts';
import { KafkaConnection, silentLog, type OutboundRecord, type SyncProducer, type TopicAdmin } from '@sync/kafka';
import { AppProcess } from '../../test/support/app-process';
import { repoRoot, testBrokers } from '../../test/support/test-env';
import { TwoWayStack } from '../../test/support/two-way-stack';
import { waitFor } from '../../test/support/wait-for';
import { runMain } from '../lib/script-main';

type Stage = 'legacy-import' | 'id-translation' | 'domain-transform' | 'legacy-writeback';
type ConsumerStage = Exclude<Stage, 'legacy-import'>;
const STAGES: readonly Stage[] = ['legacy-import', 'id-translation', 'domain-transform', 'legacy-writeback'];
const ROWS = 2_000;

interface Options {
  readonly n: number;
  readonly partitions: number;
  readonly stages: readonly Stage[];
}

function parseOptions(argv: readonly string[]): Options {
  let n = 20_000;
  let partitions = 4;
  let stages: readonly Stage[] = STAGES;
  for (const arg of argv) {
    if (/^\d+$/.test(arg)) n = Number(arg);
    else if (arg.startsWith('--partitions=')) partitions = Number(arg.slice('--partitions='.length));
    else if (arg.startsWith('--stages=')) {
      const named = arg.slice('--stages='.length).split(',');
      const unknown = named.filter((s) => !(STAGES as readonly string[]).includes(s));
      if (unknown.length > 0) throw new Error(`--stages: unknown ${unknown.join(', ')} (one of ${STAGES.join(', ')})`);
      stages = named as Stage[];
    } else throw new Error(`unknown argument ${arg} (N, --partitions=P, --stages=...)`);
  }
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 64) throw new Error(`--partitions: 1 to 64, got ${partitions}`);
  if (!(n >= 100)) throw new Error(`N: at least 100, got ${n}`);
  return { n, partitions, stages };
}

const load = (): number => Number(os.loadavg()[0]!.toFixed(1));

/** user + system CPU seconds of a process so far, from /proc (0 once it is gone). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime + stime, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The stage's input topic, its consumer group and the i-th input message. */
function stageIo(stage: ConsumerStage, stack: TwoWayStack): { topic: string; groupId: string; message: (i: number) => OutboundRecord } {
  const ref = { system: stack.system, schema: 'public', table: 'users' };
  const row = (i: number): Record<string, unknown> => ({ id: (i % ROWS) + 1, name: `User ${i}`, email: `u${i}@example.org`, street: `${i} Main St`, city: 'Leeds', zip: String(10000 + (i % 90000)), updated_at: '2026-12-01T00:00:00.000Z' });
  const source = (i: number): Record<string, unknown> => ({ ...ref, position: String(i + 1), committedAt: '2026-12-01T00:00:00.000Z', txId: null });
  const headers = (i: number, origin: string): Record<string, string> => ({ origin, 'causation-id': `bench-${i}`, 'event-id': `bench-${stack.system}-${i}` });
  switch (stage) {
    case 'id-translation': {
      const topic = Topics.legacy(ref);
      return {
        topic,
        groupId: `${stack.groupPrefix}_idt.legacy`,
        message: (i) => ({ topic, key: JSON.stringify({ id: (i % ROWS) + 1 }), value: JSON.stringify({ op: 'u', before: row(i - 1), after: row(i), source: source(i), ts_ms: 1 }), headers: headers(i, `legacy:${stack.system}`) }),
      };
    }
    case 'domain-transform': {
      const topic = Topics.keyed(ref);
      return {
        topic,
        groupId: `${stack.groupPrefix}_dt.forward`,
        message: (i) => {
          const globalId = `gid-${(i % ROWS) + 1}`;
          return { topic, key: globalId, value: JSON.stringify({ op: 'u', before: row(i - 1), after: row(i), source: source(i), ts_ms: 1, globalId, references: {} }), headers: headers(i, `legacy:${stack.system}`) };
        },
      };
    }
    case 'legacy-writeback': {
      const topic = Topics.resolved(ref);
      return {
        topic,
        groupId: `legacy-writeback.${stack.system}`,
        message: (i) => {
          const r = row(i);
          const command = { commandId: `bench-${stack.system}-${i}`, op: 'upsert', ...ref, globalId: `gid-${r['id'] as number}`, key: { id: r['id'] }, columns: { name: r['name'], email: r['email'], street: r['street'] }, occurredAt: new Date().toISOString(), origin: 'service:bench', causationId: `bench-${i}` };
          return { topic, key: command.globalId, value: JSON.stringify(command), headers: headers(i, 'service:bench') };
        },
      };
    }
  }
}

interface Round {
  readonly stage: Stage;
  readonly replicas: number;
  readonly messages: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly replicaCpuSeconds: number;
  readonly loadBefore: number;
  readonly loadAfter: number;
}

async function committed(admin: TopicAdmin, groupId: string, topic: string): Promise<number> {
  let sum = 0;
  for (const offset of (await admin.committedOffsets(groupId, topic)).values()) sum += Math.max(0, Number(offset));
  return sum;
}

/** legacy-import: N rows into users and orders (1,000-row statements), until both legacy topics hold them. */
async function importRows(stack: TwoWayStack, n: number, admin: TopicAdmin, replicas: number): Promise<void> {
  const topics = ['users', 'orders'].map((table) => Topics.legacy({ system: stack.system, schema: 'public', table }));
  const before = (await Promise.all(topics.map((t) => admin.messageCount(t).catch(() => 0)))).reduce((a, b) => a + b, 0);
  await stack.legacy.exec(`INSERT INTO users (name) VALUES ('owner')`);
  const half = Math.floor(n / 2);
  for (let from = 0; from < n - 1; from += 1_000) {
    const count = Math.min(1_000, n - 1 - from);
    if (from < half) await stack.legacy.exec(`INSERT INTO users (name, email, city) SELECT 'User ' || g, 'u' || g || '@example.org', 'Leeds' FROM generate_series($1::int, $2::int) g`, [from, from + count - 1]);
    else await stack.legacy.exec(`INSERT INTO orders (user_id, total) SELECT (SELECT min(id) FROM users), g % 1000 FROM generate_series($1::int, $2::int) g`, [from, from + count - 1]);
  }
  await waitFor(`legacy-import x${replicas} published ${n}`, async () => (await Promise.all(topics.map((t) => admin.messageCount(t).catch(() => 0)))).reduce((a, b) => a + b, 0) - before >= n, 1_800_000, 250);
}

async function round(stage: Stage, replicas: number, options: Options, producer: SyncProducer, admin: TopicAdmin): Promise<Round> {
  const stack = await TwoWayStack.create();
  const apps: AppProcess[] = [];
  try {
    // Every topic the apps create gets P partitions (kafka.topics.partitions), as a scaled deployment configures it.
    const text = readFileSync(stack.pipelineFile, 'utf8').replace(/^kafka:\n/m, `kafka:\n  topics:\n    partitions: ${options.partitions}\n`);
    writeFileSync(stack.pipelineFile, text);
    const io = stage === 'legacy-import' ? undefined : stageIo(stage, stack);
    if (io) await admin.ensureTopics([{ topic: io.topic, partitions: options.partitions }]);
    for (let r = 0; r < replicas; r++) apps.push(await AppProcess.start(stage, { ...stack.env(), LOG_LEVEL: 'error' }));
    await Promise.all(
      apps.map((app) => waitFor(`${stage} ready`, async () => (await app.status('/health/ready')) === 200 || (app.isRunning() ? undefined : Promise.reject(new Error(app.logs().slice(-2000)))), 300_000, 500)),
    );
    // Let the group settle (every replica joined and assigned) before the clock starts.
    await new Promise((r) => setTimeout(r, 3_000));
    const loadBefore = load();
    const cpuBefore = apps.map((a) => cpuSeconds(a.proc.pid));
    const started = performance.now();
    if (io) {
      for (let from = 0; from < options.n; from += 1_000) {
        const batch: OutboundRecord[] = [];
        for (let i = from; i < Math.min(options.n, from + 1_000); i++) batch.push(io.message(i));
        await producer.send(batch);
      }
      await waitFor(`${stage} x${replicas} committed ${options.n}`, async () => (await committed(admin, io.groupId, io.topic)) >= options.n, 1_800_000, 250);
    } else await importRows(stack, options.n, admin, replicas);
    const seconds = (performance.now() - started) / 1000;
    const replicaCpuSeconds = apps.reduce((sum, a, i) => sum + cpuSeconds(a.proc.pid) - cpuBefore[i]!, 0);
    const result: Round = { stage, replicas, messages: options.n, seconds: Number(seconds.toFixed(2)), perSecond: Math.round(options.n / seconds), replicaCpuSeconds: Number(replicaCpuSeconds.toFixed(1)), loadBefore, loadAfter: load() };
    console.log(
      `${stage.padEnd(17)} ${replicas} replica(s): ${options.n} messages in ${seconds.toFixed(1).padStart(6)} s = ${String(result.perSecond).padStart(6)}/s wall; replicas used ${result.replicaCpuSeconds} CPU-s (${Math.round(options.n / Math.max(0.1, replicaCpuSeconds))}/CPU-s); load ${loadBefore} → ${result.loadAfter}`,
    );
    return result;
  } finally {
    await Promise.all(apps.map((a) => a.stop('SIGTERM', 20_000).catch(() => undefined)));
    await stack.close();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'bench-scale' }, silentLog);
  const producer = connection.producer();
  await producer.connect();
  const admin = connection.admin();
  const rounds: Round[] = [];
  console.log(`bench:scale: ${options.n} messages per round, ${options.partitions} partitions, ${os.cpus().length} cores, load ${load()}`);
  try {
    for (const stage of options.stages) {
      for (const replicas of [1, 2]) rounds.push(await round(stage, replicas, options, producer, admin));
    }
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
  console.log('\nper stage: 2 replicas / 1 replica (wall throughput; CPU-s per message alongside)');
  const ratios: Record<string, number> = {};
  for (const stage of options.stages) {
    const one = rounds.find((r) => r.stage === stage && r.replicas === 1)!;
    const two = rounds.find((r) => r.stage === stage && r.replicas === 2)!;
    ratios[stage] = Number((two.perSecond / one.perSecond).toFixed(2));
    console.log(`  ${stage.padEnd(17)} ×${ratios[stage]}  (${one.perSecond}/s → ${two.perSecond}/s; ${(one.replicaCpuSeconds / one.messages * 1000).toFixed(2)} → ${(two.replicaCpuSeconds / two.messages * 1000).toFixed(2)} CPU-ms/message)`);
  }
  const out = path.join(repoRoot, 'bench-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'scale.json'), JSON.stringify({ at: new Date().toISOString(), cores: os.cpus().length, partitions: options.partitions, rounds, ratios }, null, 2));
}

runMain(main);
