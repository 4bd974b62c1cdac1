/**
 * What capture costs the legacy database, every capture mode in one run (npm run bench:capture-cost).
 *
 * One throwaway PostgreSQL 15 cluster with wal_level=logical (scripts/debezium.sh up, by default on
 * 127.0.0.1:55442 with Connect on 18093 and its own run directory, so it does not meet the other
 * benchmarks' clusters), one database, one table per mode, the modes one after the other:
 *   none              no capture (the baseline; measured first and again last, the ratio uses the mean)
 *   row triggers      capture.triggerLevel: row (one changelog insert per row)
 *   statement triggers capture.triggerLevel: statement (one INSERT … SELECT per statement)
 *   statement + NOTIFY the same with capture.notify: true
 *   logical           capture.mode: logical, when @sync/config knows the mode (otherwise skipped with a note)
 *   Debezium          Debezium 3.0 PostgreSQL connector (pgoutput) on Kafka Connect
 * Workloads per mode: bulk inserts (N rows, default 100,000, in 1,000-row statements), updates of
 * those rows (1,000-row statements), then the backlog of both captured (throughput), then
 * single-row inserts at a fixed rate (latency p50/p99), then single-row commits at full speed
 * from 8 sessions for a fixed time (commit capacity), capture running. Ratios are to "none".
 * Two profile rows repeat the statement level's writes without the changelog's conflict-key index,
 * then also without its tx index (where the write time goes). Trigger modes poll every POLL_MS; the poll sweep rows probe the statement mode's latency at
 * other poll intervals (the default is chosen from them, docs/performance.md).
 * Arguments: [rows=100000] [capacity seconds=15] [rate=500] [latency seconds=10].
 * Environment: KAFKA_BROKERS, PG_LOGICAL_PORT (55442), CONNECT_PORT (18093), SYNC_RUN_DIR
 * (.run/capture-cost). Everything it starts is stopped on exit, failure, SIGINT and SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { CAPTURE_MODES, loadEnv, parsePipeline, type TableConfig } from '@sync/config';
import { Topics } from '@sync/contracts';
import { applyDdl, changelogDdl, createCaptureSource, createLegacyDb, NOTIFY_CHANNEL, prepareCapture, type PostgresLegacyDb } from '@sync/legacy-db';
import { KafkaConnection, silentLog } from '@sync/kafka';
import { createLogger, MetricsRegistry } from '@sync/observability';
import { captureMetrics } from '../../apps/legacy-import/src/capture.metrics';
import { TableCaptureRunner } from '../../apps/legacy-import/src/table-capture.runner';
import { encodeState } from '../../apps/legacy-import/src/capture-state';
import { BENCH_TABLE_DDL, exec, fixedRateLatency, insertRows, ratePerSecond, singleRowCommitRate, type CaptureWorkload, type LatencyResult } from './capture-bench.support';
import { ConnectRest, dropSlot } from './debezium-capture.support';
import { repoRoot, runMain } from '../lib/script-main';
import { waitUntil } from '../lib/wait';

const N = Number(process.argv[2] ?? 100_000);
const CAPACITY_SECONDS = Number(process.argv[3] ?? 15);
const RATE = Number(process.argv[4] ?? 500);
const LATENCY_SECONDS = Number(process.argv[5] ?? 10);
const WRITERS = 8;
const POLL_MS = 100;
const POLL_SWEEP_MS = [20, 500];
const STATEMENT_ROWS = 1000;
const brokers = [...(loadEnv().kafka.brokers ?? ['127.0.0.1:19092'])];
const pgPort = process.env['PG_LOGICAL_PORT'] ?? '55442';
const connectPort = process.env['CONNECT_PORT'] ?? '18093';
const runDir = process.env['SYNC_RUN_DIR'] ?? path.join(repoRoot, '.run', 'capture-cost');
const baseUrl = `postgres://postgres@127.0.0.1:${pgPort}/postgres`;
const workload: CaptureWorkload = { rows: N, rate: RATE, seconds: LATENCY_SECONDS, writers: WRITERS };

/** What one mode measured; absent fields were not part of its workloads. */
interface ModeResult {
  readonly mode: string;
  readonly bulkInsertMs?: number;
  readonly updateMs?: number;
  readonly insertDbCpuS?: number;
  readonly updateDbCpuS?: number;
  /** Database CPU per single-row commit of the capacity run, in microseconds. */
  readonly commitDbCpuUs?: number;
  readonly captureRowsPerS?: number;
  readonly latency?: LatencyResult;
  readonly commitsPerS?: number;
  readonly note?: string;
}

/** A running capture of one table: its backlog is read on `drain`, then it streams until `stop`. */
interface Capture {
  readonly topic?: string;
  /** Starts reading (or resumes); resolves with the milliseconds until `changes` were published. */
  drain(changes: number): Promise<number>;
  stop(): Promise<void>;
}

interface BenchMode {
  readonly name: string;
  /** Why the mode cannot run here, or undefined. */
  readonly skip?: () => string | undefined;
  /** Workloads to run (default: all). */
  readonly only?: readonly ('writes' | 'capture' | 'latency' | 'capacity')[];
  /** Creates its capture for `table` (which exists, empty); called before the writes. */
  open(ctx: Ctx, table: string): Promise<Capture | undefined>;
}

interface Ctx {
  readonly url: string;
  readonly dbName: string;
  readonly kafka: KafkaConnection;
}

// ------------------------------------------------------------------ the modes

function triggerMode(name: string, capture: string, only?: BenchMode['only'], dropIndexes: readonly ('legacy_key' | 'tx')[] = []): BenchMode {
  return {
    name,
    only,
    open: async (ctx, table) => {
      const capturing = await openSuiteCapture(ctx, table, capture);
      // Profile rows: the same trigger without some of the changelog's indexes, to show where the write time goes.
      for (const index of dropIndexes) await exec(ctx.url, `DROP INDEX sync."public_${table}_changes_${index}"`);
      return dropIndexes.length > 0 ? { drain: () => Promise.resolve(0), stop: () => capturing.stop() } : capturing;
    },
  };
}

const MODES: readonly BenchMode[] = [
  { name: 'none', open: () => Promise.resolve(undefined) },
  triggerMode('row triggers', `{ mode: trigger, triggerLevel: row, notify: false, pollIntervalMs: ${POLL_MS} }`),
  triggerMode('statement triggers', `{ mode: trigger, triggerLevel: statement, notify: false, pollIntervalMs: ${POLL_MS} }`),
  triggerMode('statement triggers + NOTIFY', `{ mode: trigger, triggerLevel: statement, notify: true, pollIntervalMs: 500 }`),
  // Where the statement level's write time goes: the changelog's conflict-key index (for the
  // write-back's conflict check) and its tx index dropped in turn (writes only, nothing captured).
  triggerMode('  profile: statement, no conflict-key index', `{ mode: trigger, triggerLevel: statement, notify: false }`, ['writes'], ['legacy_key']),
  triggerMode('  profile: statement, no conflict-key or tx index', `{ mode: trigger, triggerLevel: statement, notify: false }`, ['writes'], ['legacy_key', 'tx']),
  ...POLL_SWEEP_MS.map((ms) => triggerMode(`statement triggers, poll ${ms} ms`, `{ mode: trigger, triggerLevel: statement, notify: false, pollIntervalMs: ${ms} }`, ['latency'])),
  {
    // The logical-decoding capture mode (issue 15) plugs in here once @sync/config knows it.
    name: 'logical',
    skip: () => ((CAPTURE_MODES as readonly string[]).includes('logical') ? undefined : 'capture.mode logical is not in this build (@sync/config CAPTURE_MODES)'),
    open: (ctx, table) => openSuiteCapture(ctx, table, '{ mode: logical }'),
  },
  { name: 'Debezium', open: openDebezium },
  { name: 'none (again)', open: () => Promise.resolve(undefined) },
];

/** legacy-import's capture loop on `table`, with the pipeline's `capture` block, DDL applied. */
async function openSuiteCapture(ctx: Ctx, table: string, capture: string): Promise<Capture> {
  const system = `cost${Date.now().toString(36)}`;
  const pipeline = parsePipeline(
    `version: 1\nsystems:\n  ${system}:\n    dialect: postgres\n    connection: { url: { env: BENCH_URL } }\n    tables:\n      - name: ${table}\n        key: [id]\n        capture: ${capture.replace('{ ', capture.includes('logical') ? '{ batchSize: 5000, ' : '{ batchSize: 5000, retentionMs: 0, ')}\n`,
    'capture-cost',
  );
  const sys = pipeline.systems.get(system)!;
  const t = sys.tables[0] as TableConfig;
  const db = createLegacyDb({ system, dialect: 'postgres', url: { reveal: () => ctx.url }, poolSize: 2 }, () => undefined) as PostgresLegacyDb;
  await applyDdl(db, changelogDdl(sys));
  // Logical mode: the system's publication and slot (what `sync-ctl schema --apply` creates).
  if (t.capture.mode === 'logical') await prepareCapture(db, sys);
  const producer = ctx.kafka.producer();
  await producer.connect();
  const topic = Topics.legacy({ system, schema: 'public', table });
  const admin = ctx.kafka.admin();
  await admin.ensureTopics([{ topic }, { topic: Topics.offsets, compacted: true }]);
  await admin.disconnect();
  const source = createCaptureSource(db, sys, t);
  const metrics = captureMetrics(new MetricsRegistry('bench'));
  const ports = {
    publish: (records: Parameters<typeof producer.send>[0]) => producer.send(records),
    saveState: (entity: string, state: Parameters<typeof encodeState>[0]) => producer.send([{ topic: Topics.offsets, key: entity, value: encodeState(state) }]),
  };
  const runner = new TableCaptureRunner(t, source, ports, metrics, createLogger('bench', 'warn'), { phase: 'streaming', position: await source.startPosition() }, {
    maxMessageBytes: 1_048_576,
  });
  if (t.capture.mode === 'trigger' && t.capture.notify) db.listen(NOTIFY_CHANNEL, () => runner.wake());
  let started = false;
  const start = (): void => {
    if (!started) runner.start();
    started = true;
  };
  return {
    topic,
    drain: async (changes) => {
      const t0 = performance.now();
      start();
      const captured = async (): Promise<number> => (await metrics.rows.get()).values.reduce((sum, v) => sum + v.value, 0);
      await waitUntil(`${changes} changes captured`, async () => (await captured()) >= changes, 900_000, 20);
      return performance.now() - t0;
    },
    stop: async () => {
      start();
      await runner.stop().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await db.close().catch(() => undefined);
    },
  };
}

/** Debezium's connector on `table`: running with a slot, paused during the writes, resumed by drain. */
async function openDebezium(ctx: Ctx, table: string): Promise<Capture> {
  const rest = new ConnectRest(`http://127.0.0.1:${connectPort}`);
  const name = `${ctx.dbName}_${table}`;
  const topic = `${name}.public.${table}`;
  const admin = ctx.kafka.admin();
  await admin.ensureTopics([{ topic }]);
  const config: Record<string, string> = {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'tasks.max': '1',
    'plugin.name': 'pgoutput',
    'database.hostname': '127.0.0.1',
    'database.port': pgPort,
    'database.user': 'postgres',
    'database.password': 'unused',
    'database.dbname': ctx.dbName,
    'topic.prefix': name,
    'table.include.list': `public.${table}`,
    'slot.name': name,
    'publication.name': `${name}_pub`,
    'publication.autocreate.mode': 'filtered',
    'snapshot.mode': 'no_data',
    'decimal.handling.mode': 'string',
    // A deployment tuned for latency (its default of 500 ms dominates latency; docs/performance.md).
    'poll.interval.ms': '10',
  };
  await rest.call('PUT', `/connectors/${name}/config`, config);
  const stop = async (): Promise<void> => {
    await rest.call('DELETE', `/connectors/${name}`).catch((err: unknown) => console.error(err));
    await dropSlot(ctx.url, name).catch((err: unknown) => console.error(err));
    await admin.disconnect().catch(() => undefined);
  };
  try {
    await rest.waitForState(name, 'RUNNING');
    await exec(ctx.url, `INSERT INTO ${table} (id, name, amount) VALUES (0, 'warm-up', 0)`);
    await waitUntil('Debezium streaming', async () => (await admin.messageCount(topic)) >= 1, 120_000, 100);
    await rest.call('PUT', `/connectors/${name}/pause`);
    await rest.waitForState(name, 'PAUSED');
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    topic,
    drain: async (changes) => {
      const t0 = performance.now();
      await rest.call('PUT', `/connectors/${name}/resume`);
      // + 1: the warm-up row (id 0, which the workloads never touch).
      await waitUntil(`${changes} Debezium records`, async () => (await admin.messageCount(topic)) >= changes + 1, 900_000, 20);
      return performance.now() - t0;
    },
    stop,
  };
}

// ------------------------------------------------------------------ workloads

async function updateRows(url: string, table: string, n: number): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const start = performance.now();
    for (let i = 1; i <= n; i += STATEMENT_ROWS) {
      await c.query(`UPDATE ${table} SET amount = amount + 1, name = name || '.' WHERE id BETWEEN $1 AND $2`, [i, Math.min(n, i + STATEMENT_ROWS - 1)]);
    }
    return performance.now() - start;
  } finally {
    await c.end();
  }
}

/**
 * CPU seconds the cluster spent: its postmaster's children alive now plus the ones it reaped
 * (cutime/cstime), from /proc. Differences of two readings give a workload's database CPU.
 */
async function clusterCpuSeconds(): Promise<number> {
  // The workload's backends have just disconnected: let the postmaster reap them (cutime).
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const pidFile = path.join(runDir, 'pg-logical', 'data', 'postmaster.pid');
  const pm = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const ticks = 100;
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(f[1]);
      const pid = Number(entry);
      if (pid === pm) total += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      else if (ppid === pm) total += Number(f[11]) + Number(f[12]);
    } catch {
      // the process ended while we read
    }
  }
  return total / ticks;
}

async function runMode(ctx: Ctx, mode: BenchMode, index: number): Promise<ModeResult> {
  const reason = mode.skip?.();
  if (reason !== undefined) {
    console.error(`[capture-cost] ${mode.name}: skipped (${reason})`);
    return { mode: mode.name, note: `skipped: ${reason}` };
  }
  const runs = (w: 'writes' | 'capture' | 'latency' | 'capacity'): boolean => mode.only === undefined || mode.only.includes(w);
  const table = `t${index}`;
  await exec(ctx.url, `CREATE TABLE ${table} ${BENCH_TABLE_DDL}`);
  console.error(`[capture-cost] ${mode.name} (table ${table})`);
  const capture = await mode.open(ctx, table);
  try {
    let result: ModeResult = { mode: mode.name };
    if (runs('writes')) {
      const cpu0 = await clusterCpuSeconds();
      const bulkInsertMs = await insertRows(ctx.url, table, N);
      const cpu1 = await clusterCpuSeconds();
      const updateMs = await updateRows(ctx.url, table, N);
      const cpu2 = await clusterCpuSeconds();
      result = { ...result, bulkInsertMs, updateMs, insertDbCpuS: Number((cpu1 - cpu0).toFixed(2)), updateDbCpuS: Number((cpu2 - cpu1).toFixed(2)) };
    }
    if (capture !== undefined) {
      const backlog = runs('writes') ? 2 * N : 0;
      const ms = await capture.drain(backlog);
      if (runs('capture') && backlog > 0) result = { ...result, captureRowsPerS: ratePerSecond(backlog, ms) };
      if (runs('latency') && capture.topic !== undefined) {
        const latency = await fixedRateLatency({ kafka: ctx.kafka, dlqProducer: ctx.kafka.producer(), url: ctx.url, table, topic: capture.topic, firstId: N + 1, workload });
        result = { ...result, latency };
      }
    }
    if (runs('capacity')) {
      const cpu0 = await clusterCpuSeconds();
      const commitsPerS = await singleRowCommitRate(ctx.url, table, 100_000_000, CAPACITY_SECONDS, WRITERS);
      const cpu = (await clusterCpuSeconds()) - cpu0;
      result = { ...result, commitsPerS, commitDbCpuUs: Math.round((cpu / (commitsPerS * CAPACITY_SECONDS)) * 1e6) };
    }
    return result;
  } finally {
    await capture?.stop();
    await exec(ctx.url, `DROP TABLE ${table}`).catch(() => undefined);
  }
}

// ------------------------------------------------------------------ report

function debezium(cmd: 'up' | 'down'): void {
  const env = { ...process.env, PG_LOGICAL_PORT: pgPort, CONNECT_PORT: connectPort, SYNC_RUN_DIR: runDir };
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'debezium.sh'), cmd], { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (r.status !== 0) throw new Error(`scripts/debezium.sh ${cmd} exited with ${r.status ?? r.signal}`);
}

function report(results: readonly ModeResult[]): string {
  const base = results.filter((r) => r.mode.startsWith('none') && r.bulkInsertMs !== undefined);
  const mean = (f: (r: ModeResult) => number | undefined): number | undefined => {
    const v = base.map(f).filter((x): x is number => x !== undefined);
    return v.length === 0 ? undefined : v.reduce((a, b) => a + b, 0) / v.length;
  };
  const baseInsert = mean((r) => r.bulkInsertMs);
  const baseUpdate = mean((r) => r.updateMs);
  const baseCommits = mean((r) => r.commitsPerS);
  const fmt = (v: number | undefined, digits = 0): string => (v === undefined || Number.isNaN(v) ? '' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  const ratio = (v: number | undefined, b: number | undefined): string => (v === undefined || b === undefined ? '' : `${(v / b).toFixed(2)}×`);
  const baseInsertCpu = mean((r) => r.insertDbCpuS);
  const baseUpdateCpu = mean((r) => r.updateDbCpuS);
  const baseCommitCpu = mean((r) => r.commitDbCpuUs);
  const head = ['mode', 'bulk insert s', '× none', 'DB CPU s', '× none', 'update s', '× none', 'DB CPU s', '× none', 'commits/s (8 sessions)', '× none', 'DB CPU µs/commit', '× none', 'capture rows/s', `latency p50 ms at ${RATE}/s`, 'p99 ms', 'note'];
  const rows = results.map((r) => [
    r.mode,
    fmt(r.bulkInsertMs === undefined ? undefined : r.bulkInsertMs / 1000, 1),
    ratio(r.bulkInsertMs, baseInsert),
    fmt(r.insertDbCpuS, 1),
    ratio(r.insertDbCpuS, baseInsertCpu),
    fmt(r.updateMs === undefined ? undefined : r.updateMs / 1000, 1),
    ratio(r.updateMs, baseUpdate),
    fmt(r.updateDbCpuS, 1),
    ratio(r.updateDbCpuS, baseUpdateCpu),
    fmt(r.commitsPerS),
    ratio(r.commitsPerS, baseCommits),
    fmt(r.commitDbCpuUs),
    ratio(r.commitDbCpuUs, baseCommitCpu),
    fmt(r.captureRowsPerS),
    r.latency === undefined ? '' : fmt(r.latency.p50),
    r.latency === undefined ? '' : fmt(r.latency.p99),
    r.note ?? (r.latency !== undefined && r.latency.samples < r.latency.achievedRate * LATENCY_SECONDS * 0.99 ? `${r.latency.samples} events matched` : ''),
  ]);
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((l) => l[i]!.length)));
  const render = (l: string[]): string => `| ${l.map((c, i) => (i === 0 || i === l.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [render(head), `|${widths.map((w, i) => (i === 0 || i === widths.length - 1 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(render)].join('\n');
}

async function main(): Promise<void> {
  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    try {
      debezium('down');
    } catch (err) {
      console.error(err);
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  const at = new Date().toISOString();
  const loadStart = loadavg().map((l) => l.toFixed(1));
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const results: ModeResult[] = [];
  try {
    debezium('up');
    const dbName = `cost_${Date.now().toString(36)}`;
    await exec(baseUrl, `CREATE DATABASE ${dbName}`);
    const url = baseUrl.replace(/\/postgres$/, `/${dbName}`);
    const kafka = new KafkaConnection({ brokers, clientId: 'bench-capture-cost' }, silentLog);
    const ctx: Ctx = { url, dbName, kafka };
    for (const [i, mode] of MODES.entries()) {
      try {
        results.push(await runMode(ctx, mode, i));
      } catch (err) {
        console.error(`[capture-cost] ${mode.name} failed:`, err);
        results.push({ mode: mode.name, note: `failed: ${(err as Error).message.slice(0, 120)}` });
      }
    }
  } finally {
    cleanup();
  }
  const cpu = process.cpuUsage(cpuStart);
  const wallS = (performance.now() - wallStart) / 1000;
  const loadEnd = loadavg().map((l) => l.toFixed(1));
  console.log(
    `\nCapture cost on one PostgreSQL 15 (wal_level=logical, 127.0.0.1:${pgPort}): ${N.toLocaleString('en-US')} rows inserted and updated in ${STATEMENT_ROWS}-row statements, ` +
      `single-row commits from ${WRITERS} sessions for ${CAPACITY_SECONDS} s, latency at ${RATE}/s for ${LATENCY_SECONDS} s. Trigger modes poll every ${POLL_MS} ms unless named.\n` +
      `Run ${at}, wall ${wallS.toFixed(0)} s, bench process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s, load average ${loadStart.join(' ')} at the start, ${loadEnd.join(' ')} at the end.\n`,
  );
  console.log(report(results));
  const out = path.join(repoRoot, 'bench-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'capture-cost.json'), JSON.stringify({ at, loadStart, loadEnd, wallS, workload: { N, CAPACITY_SECONDS, RATE, LATENCY_SECONDS, WRITERS, POLL_MS }, results }, null, 2));
  console.log(`\nJSON: ${path.join('bench-results', 'capture-cost.json')}`);
}

runMain(main);
