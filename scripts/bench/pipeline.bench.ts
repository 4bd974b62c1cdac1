/**
 * The whole legacy → new path in one run (npm run bench:pipeline [ROWS]; --help for the options):
 * a fresh legacy table of ROWS rows on the shared PostgreSQL, the real apps as processes
 * (legacy-import, id-translation, domain-transform, examples/new-service) on their own topics and
 * consumer groups, and per stage: when its output started, when it held every row, its sustained
 * rows/s; the snapshot's rows/s; the end-to-end times; each app's CPU-seconds and peak RSS. Progress
 * is read from topic end offsets (legacy.*, keyed.*, domain.*) and the new service's applied
 * counter (/metrics). Bounded by a deadline; every process it started is stopped by pid at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePipeline } from '@sync/config';
import { Topics } from '@sync/contracts';
import { KafkaConnection, silentLog, type TopicAdmin } from '@sync/kafka';
import { applyDdl, changelogDdl, createLegacyDb } from '@sync/legacy-db';
import { freePort } from '../../test/support/app-process';
import { LegacyDatabase } from '../../test/support/legacy-database';
import { testBrokers, uniqueName } from '../../test/support/test-env';
import { debeziumSnapshotOfBenchTable } from './pipeline-debezium.support';
import { repoRoot, runMain } from '../lib/script-main';
import { sleep, waitUntil } from '../lib/wait';
import { procStatusBytes } from './fixed-rate.support';
import {
  BENCH_LOAD_SQL,
  BENCH_TABLE,
  BENCH_TABLE_SQL,
  fmt,
  machineBusySeconds,
  parsePipelineBenchArgs,
  PIPELINE_BENCH_USAGE,
  pipelineBenchYaml,
  processCpuSeconds,
  memoryBreakdown,
  renderTable,
  Timeline,
  type MemoryBreakdown,
  type BenchApp,
  type PipelineBenchOptions,
} from './pipeline-bench.support';

const mb = (bytes: number): number => Math.round(bytes / 1048576);

/** One app as a child process; its output's tail is kept for error messages. */
class BenchProcess {
  private tail = '';
  peakRssMb = 0;
  hwmMb = 0;
  cpuSeconds = 0;
  /** What the RSS was made of at the highest RSS its /metrics showed. */
  memoryAtPeak: MemoryBreakdown | undefined;
  readonly exited: Promise<void>;

  private constructor(readonly app: BenchApp, readonly port: number, readonly proc: ChildProcess) {
    const keep = (d: Buffer): void => {
      this.tail = (this.tail + d.toString()).slice(-6000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  static async start(app: BenchApp, args: readonly string[], env: Record<string, string>, cpuProfDir: string | undefined): Promise<BenchProcess> {
    const port = await freePort();
    const main = app === 'new-service' ? path.join(repoRoot, 'dist/examples/new-service/src/main.js') : path.join(repoRoot, 'dist/apps', app, 'src/main.js');
    const prof = cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `${app}.cpuprofile`];
    const proc = spawn(process.execPath, [...prof, main, ...(app === 'new-service' ? [...args, '--port', String(port)] : args)], {
      cwd: repoRoot,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new BenchProcess(app, port, proc);
  }

  running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async status(pathname: string): Promise<number> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}${pathname}`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  async metrics(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.port}/metrics`, { signal: AbortSignal.timeout(5000) });
    return res.text();
  }

  /** RSS now (for the peak seen by sampling), VmHWM and CPU time: read while the process lives. */
  sample(final = false): void {
    if (!this.running()) return;
    try {
      this.peakRssMb = Math.max(this.peakRssMb, mb(procStatusBytes(this.proc.pid!, 'VmRSS')));
      if (final) {
        this.hwmMb = mb(procStatusBytes(this.proc.pid!, 'VmHWM'));
        this.cpuSeconds = processCpuSeconds(this.proc.pid!);
      }
    } catch {
      // gone between the check and the read
    }
  }

  /** SIGTERM (the app finishes and commits, and writes its CPU profile), SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (!this.running()) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Reads the memory gauges of /metrics; keeps the reading with the highest RSS. */
  async sampleMemory(): Promise<void> {
    const m = memoryBreakdown(await this.metrics().catch(() => ''));
    if (m !== undefined && m.rss >= (this.memoryAtPeak?.rss ?? 0)) this.memoryAtPeak = m;
  }

  logs(): string {
    return this.tail;
  }
}

/** Sum of the metric's samples whose line matches `filter`. */
function metricSum(text: string, name: string, filter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ') || !line.includes(filter)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}

interface Stage {
  readonly label: string;
  readonly app: BenchApp;
  readonly timeline: Timeline;
}

interface Run {
  readonly opts: PipelineBenchOptions;
  readonly apps: Map<BenchApp, BenchProcess>;
  readonly stages: Stage[];
  readonly startedAt: number;
  loadMs: number;
  readyMs: number;
  finishedMs: number | undefined;
  serviceRows: number | undefined;
  snapshotMetric: { rowsPerSecond: number; rowsDone: number } | undefined;
  partitions: Record<string, number>;
  /** CPU-seconds of the PostgreSQL backends serving this run's three databases (their pools live for the whole run). */
  postgresCpuSeconds: number | undefined;
  readonly backendCpu: Map<number, number>;
  readonly databases: LegacyDatabase[];
  interrupted: boolean;
  error: string | undefined;
}

async function main(): Promise<void> {
  const parsed = parsePipelineBenchArgs(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(PIPELINE_BENCH_USAGE);
    return;
  }
  const opts = parsed;
  const deadline = performance.now() + opts.timeoutS * 1000;
  const loadBefore = os.loadavg();
  let busyBefore = machineBusySeconds();
  const cpuBefore = process.cpuUsage();

  const names = { system: uniqueName('bp').toLowerCase().slice(0, 24), orderAggregate: uniqueName('bporder').toLowerCase(), userAggregate: uniqueName('bpuser').toLowerCase(), prefix: uniqueName('benchpipe'), partitions: opts.partitions };
  const topics = {
    legacy: Topics.legacy({ system: names.system, schema: 'public', table: BENCH_TABLE }),
    keyed: Topics.keyed({ system: names.system, schema: 'public', table: BENCH_TABLE }),
    domain: Topics.domain(names.orderAggregate, 1),
    user: Topics.domain(names.userAggregate, 1),
  };
  const run: Run = {
    opts,
    apps: new Map(),
    stages: [
      { label: `legacy-import (snapshot) -> ${topics.legacy}`, app: 'legacy-import', timeline: new Timeline() },
      { label: `id-translation -> ${topics.keyed}`, app: 'id-translation', timeline: new Timeline() },
      { label: `domain-transform -> ${topics.domain}`, app: 'domain-transform', timeline: new Timeline() },
      { label: 'new service: rows written (orders)', app: 'new-service', timeline: new Timeline() },
    ],
    startedAt: 0,
    loadMs: 0,
    readyMs: 0,
    finishedMs: undefined,
    serviceRows: undefined,
    snapshotMetric: undefined,
    partitions: {},
    postgresCpuSeconds: undefined,
    backendCpu: new Map(),
    databases: [],
    interrupted: false,
    error: undefined,
  };

  const dbs = run.databases;
  const kafka = new KafkaConnection({ brokers: testBrokers(), clientId: `${names.prefix}-bench` }, silentLog);
  const admin = kafka.admin();
  // Children are killed by pid even if this process is interrupted or fails.
  const killAll = (): void => {
    for (const a of run.apps.values()) if (a.running()) a.proc.kill('SIGKILL');
  };
  process.once('exit', killAll);
  // First Ctrl-C / SIGTERM: stop waiting, report what was measured, stop the apps, clean up. Second: kill at once.
  const onSignal = (): void => {
    if (run.interrupted) {
      killAll();
      process.exit(130);
    }
    run.interrupted = true;
    console.error('[pipeline] interrupted: reporting and cleaning up (again to kill at once)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A last resort if cleanup itself hangs: everything stops a minute after the deadline.
  const hardStop = setTimeout(() => {
    console.error('[pipeline] hard deadline passed: killing the apps');
    killAll();
    process.exit(1);
  }, opts.timeoutS * 1000 + 90_000);
  hardStop.unref();

  try {
    const legacy = await LegacyDatabase.create('bench_pipe_legacy');
    dbs.push(legacy);
    const keymap = await LegacyDatabase.create('bench_pipe_keymap');
    dbs.push(keymap);
    const service = await LegacyDatabase.create('bench_pipe_service');
    dbs.push(service);

    console.error(`[pipeline] loading ${opts.rows.toLocaleString('en-US')} rows into ${legacy.name}.${BENCH_TABLE}`);
    const loadStart = performance.now();
    await legacy.exec(BENCH_TABLE_SQL);
    await legacy.exec(BENCH_LOAD_SQL, [opts.rows]);
    await legacy.exec(`VACUUM ANALYZE ${BENCH_TABLE}`);
    run.loadMs = performance.now() - loadStart;

    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-pipeline-'));
    const pipelineFile = path.join(dir, 'pipeline.yaml');
    const yaml = pipelineBenchYaml(names);
    writeFileSync(pipelineFile, yaml);
    const pipeline = parsePipeline(yaml, pipelineFile);
    const db = createLegacyDb({ system: names.system, dialect: 'postgres', url: { reveal: () => legacy.url }, poolSize: 1 }, () => undefined);
    try {
      await applyDdl(db, changelogDdl(pipeline.systems.get(names.system)!));
    } finally {
      await db.close();
    }

    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      PIPELINE_FILE: pipelineFile,
      BENCH_LEGACY_DATABASE_URL: legacy.url,
      KEYMAP_DATABASE_URL: keymap.url,
      ADMIN_TOKEN: 'bench-admin-token',
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: '15000',
      ...opts.appEnv,
    };
    const profDir = path.join(repoRoot, 'bench-results', 'profiles', `pipeline-${opts.rows}`);
    if (opts.cpuProf.length > 0) mkdirSync(profDir, { recursive: true });
    const start = async (app: BenchApp, args: string[] = []): Promise<BenchProcess> => {
      const p = await BenchProcess.start(app, args, env, opts.cpuProf.includes(app) ? profDir : undefined);
      run.apps.set(app, p);
      return p;
    };
    const ready = async (p: BenchProcess, pathname: string): Promise<void> => {
      await waitUntil(`${p.app} ready`, async () => {
        if (!p.running()) throw new Error(`${p.app} exited:\n${p.logs()}`);
        return (await p.status(pathname)) === 200;
      }, Math.max(10_000, deadline - performance.now()), 250);
    };

    // The consuming stages first (they create their topics with the pipeline's settings), then the importer: its snapshot starts the clock.
    console.error('[pipeline] starting id-translation, domain-transform, the new service');
    const readyStart = performance.now();
    await ready(await start('id-translation'), '/health/ready');
    await ready(await start('domain-transform'), '/health/ready');
    const serviceArgs = ['--brokers', env.KAFKA_BROKERS, '--database-url', service.url, '--user-aggregate', names.userAggregate, '--order-aggregate', names.orderAggregate, '--name', names.prefix];
    await ready(await start('new-service', serviceArgs), '/health');
    run.readyMs = performance.now() - readyStart;

    console.error('[pipeline] starting legacy-import: the snapshot begins');
    run.stages.forEach((s) => s.timeline.add(0, 0));
    (run as { startedAt: number }).startedAt = performance.now();
    busyBefore = machineBusySeconds();
    await start('legacy-import');
    await watch(run, admin, topics, deadline);
    for (const t of Object.values(topics)) run.partitions[t] = (await admin.partitionOffsets(t)).length;
    const li = run.apps.get('legacy-import');
    if (li?.running()) {
      const text = await li.metrics().catch(() => '');
      run.snapshotMetric = { rowsPerSecond: metricSum(text, 'sync_snapshot_rows_per_second'), rowsDone: metricSum(text, 'sync_snapshot_rows_done') };
    }
    await sampleBackends(legacy, dbs.map((d) => d.name), run.backendCpu);
    run.postgresCpuSeconds = [...run.backendCpu.values()].reduce((a, b) => a + b, 0);
    run.serviceRows = Number((await service.exec<{ n: number }>('SELECT count(*)::int AS n FROM orders'))[0]?.n ?? 0);
    for (const a of run.apps.values()) a.sample(true);
  } catch (err) {
    run.error = err instanceof Error ? err.message : String(err);
    for (const a of run.apps.values()) a.sample(true);
  } finally {
    console.error('[pipeline] stopping the apps');
    await Promise.all([...run.apps.values()].map((a) => a.stop()));
    const busy = machineBusySeconds() - busyBefore;
    const own = process.cpuUsage(cpuBefore);
    report(run, topics, { loadBefore, loadAfter: os.loadavg(), machineBusySeconds: busy, benchCpuSeconds: (own.user + own.system) / 1e6 });
    if (!opts.keep) {
      // The data goes (DeleteRecords); the empty topics stay, as every test's do.
      for (const t of Object.values(topics)) {
        const parts = await admin.partitionOffsets(t).catch(() => []);
        await admin.deleteRecordsBefore(t, parts.map((p) => ({ partition: p.partition, offset: p.high }))).catch(() => undefined);
      }
      await Promise.all(dbs.map((d) => d.drop().catch(() => undefined)));
    } else console.error(`[pipeline] kept: databases ${dbs.map((d) => d.name).join(', ')}; topics ${Object.values(topics).join(', ')}`);
    await admin.disconnect().catch(() => undefined);
    clearTimeout(hardStop);
  }
  if (run.error !== undefined) throw new Error(run.error);
  if (opts.debezium) await compareWithDebezium(run);
}

/** Debezium's initial snapshot of the same rows, after our run, and the ratio of the snapshot rates. */
async function compareWithDebezium(run: Run): Promise<void> {
  const n = run.opts.rows;
  const snapshot = run.stages[0]!.timeline;
  const first = snapshot.started();
  const all = snapshot.reached(n);
  const ours = first === undefined || all === undefined || all <= first ? undefined : n / ((all - first) / 1000);
  console.error('[pipeline] Debezium: initial snapshot of the same rows (scripts/debezium.sh)');
  const load = os.loadavg()[0]!;
  const dbz = await debeziumSnapshotOfBenchTable(n, testBrokers());
  const theirs = n / (dbz.ms / 1000);
  console.log(
    `\nDebezium initial snapshot of the same ${fmt(n)} rows (after ours, load ${load.toFixed(1)}): ${(dbz.ms / 1000).toFixed(1)} s, ${fmt(theirs)} rows/s, ` +
      `Connect worker ${dbz.cpuS.toFixed(1)} CPU-s, peak RSS ${dbz.peakRssMb} MiB; legacy-import's snapshot ${ours === undefined ? '-' : `${fmt(ours)} rows/s: ours / Debezium ${(ours / theirs).toFixed(2)}`}`,
  );
}

/**
 * CPU time of the server processes connected to these databases, per pid, sampled during the
 * run (pools close idle connections, so a backend seen earlier keeps its last reading). The
 * bench's own sessions are excluded; a connection that came and went between two samples is not
 * counted, so the sum is a lower bound.
 */
async function sampleBackends(db: LegacyDatabase, databases: readonly string[], cpu: Map<number, number>): Promise<void> {
  const pids = await db.exec<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()", [databases]);
  for (const { pid } of pids) {
    try {
      cpu.set(pid, Math.max(cpu.get(pid) ?? 0, processCpuSeconds(pid)));
    } catch {
      // ended meanwhile, or not readable (another user's cluster): not counted
    }
  }
}

/** Polls the topics' end offsets and the service's counter until every row is written, or the deadline. */
async function watch(run: Run, admin: TopicAdmin, topics: Record<'legacy' | 'keyed' | 'domain', string>, deadline: number): Promise<void> {
  const n = run.opts.rows;
  const service = run.apps.get('new-service')!;
  const [snap, keyed, domain, written] = run.stages as [Stage, Stage, Stage, Stage];
  let lastLog = 0;
  let lastBackendSample = 0;
  let lastMemorySample = 0;
  for (;;) {
    const at = performance.now() - run.startedAt;
    const [l, k, d] = await Promise.all([admin.messageCount(topics.legacy), admin.messageCount(topics.keyed), admin.messageCount(topics.domain)]);
    const applied = metricSum(await service.metrics().catch(() => ''), 'service_events_applied_total', 'OrderPlaced');
    snap.timeline.add(at, l);
    keyed.timeline.add(at, k);
    domain.timeline.add(at, d);
    written.timeline.add(at, applied);
    for (const a of run.apps.values()) a.sample();
    if (at - lastBackendSample > 2000) {
      lastBackendSample = at;
      await sampleBackends(run.databases[0]!, run.databases.map((d) => d.name), run.backendCpu).catch(() => undefined);
    }
    if (at - lastMemorySample > 1000) {
      lastMemorySample = at;
      await Promise.all([...run.apps.values()].map((a) => a.sampleMemory()));
    }
    if (at - lastLog > 5000) {
      lastLog = at;
      console.error(`[pipeline] ${(at / 1000).toFixed(0)} s: legacy ${l}, keyed ${k}, domain ${d}, written ${applied} / ${n}`);
    }
    if (applied >= n && d >= n) {
      run.finishedMs = at;
      return;
    }
    const dead = [...run.apps.values()].filter((a) => !a.running());
    if (dead.length > 0) throw new Error(`exited during the run: ${dead.map((a) => `${a.app}\n${a.logs()}`).join('\n')}`);
    if (run.interrupted) throw new Error(`interrupted with ${applied} of ${n} rows written`);
    if (performance.now() > deadline) throw new Error(`deadline of ${run.opts.timeoutS} s passed with ${applied} of ${n} rows written`);
    await sleep(250);
  }
}

interface Machine {
  readonly loadBefore: number[];
  readonly loadAfter: number[];
  readonly machineBusySeconds: number;
  readonly benchCpuSeconds: number;
}

function report(run: Run, topics: Record<string, string>, machine: Machine): void {
  const n = run.opts.rows;
  const s = (ms: number | undefined): string => (ms === undefined ? '-' : (ms / 1000).toFixed(1));
  const rows: string[][] = [['stage', 'first row s', 'all rows s', 'average rows/s', 'sustained rows/s (10-90%)', 'CPU-s', 'peak RSS MiB (VmHWM)', 'peak RSS sampled MiB']];
  for (const stage of run.stages) {
    const first = stage.timeline.started();
    const all = stage.timeline.reached(n);
    const app = run.apps.get(stage.app);
    rows.push([
      stage.label,
      s(first),
      all === undefined ? `(${fmt(stage.timeline.last())} rows)` : s(all),
      all === undefined || first === undefined || all <= first ? '-' : fmt(n / ((all - first) / 1000)),
      fmt(stage.timeline.sustainedRate(n)),
      app === undefined ? '-' : fmt(app.cpuSeconds, 1),
      app === undefined ? '-' : String(app.hwmMb),
      app === undefined ? '-' : String(app.peakRssMb),
    ]);
  }
  const domainAll = run.stages[2]!.timeline.reached(n);
  const writtenAll = run.stages[3]!.timeline.reached(n);
  const elapsedS = run.finishedMs === undefined ? undefined : run.finishedMs / 1000;
  console.log(`\nbench:pipeline: ${fmt(n)} rows (${BENCH_TABLE}: int key, 3 texts, numeric, timestamptz, boolean), topics with ${Object.values(run.partitions)[0] ?? '?'} partition(s)`);
  console.log(`load average (1/5/15 min): before ${machine.loadBefore.map((l) => l.toFixed(1)).join(' ')}, after ${machine.loadAfter.map((l) => l.toFixed(1)).join(' ')}; ${os.cpus().length} CPUs`);
  console.log(`legacy table loaded in ${s(run.loadMs)} s; consuming apps ready in ${s(run.readyMs)} s (not counted); the clock starts when legacy-import is spawned\n`);
  console.log(renderTable(rows));
  console.log('');
  console.log(
    renderTable([
      ['end to end', 'seconds', 'rows/s'],
      ['legacy-import spawned -> last domain event on its topic', s(domainAll), domainAll === undefined ? '-' : fmt(n / (domainAll / 1000))],
      ['legacy-import spawned -> every row written by the new service', s(writtenAll), writtenAll === undefined ? '-' : fmt(n / (writtenAll / 1000))],
    ]),
  );
  const memRows = [['app', 'RSS MiB', 'V8 heap total', 'heap used', 'new space', 'old space', 'external (Buffers)', 'other (native, code, stacks)']];
  for (const [name, a] of run.apps) {
    const m = a.memoryAtPeak;
    if (m !== undefined) memRows.push([name, ...[m.rss, m.heapTotal, m.heapUsed, m.newSpace, m.oldSpace, m.external, m.other].map((v) => fmt(v))]);
  }
  console.log(`\nmemory at each app's highest RSS read from its /metrics (every ~1 s; MiB)${Object.keys(run.opts.appEnv).length > 0 ? `; app env: ${Object.entries(run.opts.appEnv).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`);
  console.log(renderTable(memRows));
  if (run.snapshotMetric !== undefined) console.log(`\nlegacy-import's own gauge: sync_snapshot_rows_per_second ${fmt(run.snapshotMetric.rowsPerSecond)} (rows done ${fmt(run.snapshotMetric.rowsDone)})`);
  console.log(`new service's orders table: ${fmt(run.serviceRows)} rows`);
  const appCpu = [...run.apps.values()].reduce((a, p) => a + p.cpuSeconds, 0);
  console.log(`CPU-seconds: apps ${fmt(appCpu, 1)}, PostgreSQL backends of this run's databases ${fmt(run.postgresCpuSeconds, 1)}, this bench ${fmt(machine.benchCpuSeconds, 1)}, whole machine from the clock start to the end ${fmt(machine.machineBusySeconds, 1)} (PostgreSQL, the broker and other users' processes included)`);
  if (run.error !== undefined) console.log(`\nRUN FAILED: ${run.error.slice(0, 4000)}`);
  const out = path.join(repoRoot, 'bench-results');
  mkdirSync(out, { recursive: true });
  const file = path.join(out, `pipeline-${n}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        command: `npm run bench:pipeline -- ${process.argv.slice(2).join(' ')}`.trim(),
        rows: n,
        partitions: run.partitions,
        topics,
        loadAverage: { before: machine.loadBefore, after: machine.loadAfter },
        cpuSeconds: { machine: machine.machineBusySeconds, bench: machine.benchCpuSeconds, postgresBackends: run.postgresCpuSeconds ?? null, ...Object.fromEntries([...run.apps].map(([a, p]) => [a, p.cpuSeconds])) },
        peakRssMb: Object.fromEntries([...run.apps].map(([a, p]) => [a, { vmHwm: p.hwmMb, sampled: p.peakRssMb, atPeak: p.memoryAtPeak ?? null }])),
        appEnv: run.opts.appEnv,
        endToEndSeconds: { domain: domainAll === undefined ? null : domainAll / 1000, written: writtenAll === undefined ? null : writtenAll / 1000, finished: elapsedS ?? null },
        stages: run.stages.map((st) => ({ label: st.label, firstMs: st.timeline.started() ?? null, allMs: st.timeline.reached(n) ?? null, sustainedRowsPerS: st.timeline.sustainedRate(n) ?? null, timeline: st.timeline })),
        snapshotGauge: run.snapshotMetric ?? null,
        serviceRows: run.serviceRows ?? null,
        error: run.error ?? null,
      },
      null,
      2,
    ),
  );
  console.log(`\nJSON: ${path.relative(repoRoot, file)}`);
}

runMain(main);
