import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Pool } from 'pg';
import { APP_NAMES } from '@sync/config';
import { Topics } from '@sync/contracts';
import { KafkaConnection, silentLog } from '@sync/kafka';
import { ChangePublisher } from '../../examples/new-service/src/change.publisher';
import { ServiceRepository } from '../../examples/new-service/src/service.repository';
import { ServiceStats } from '../../examples/new-service/src/service-stats';
import { compareOrders, compareUsers, countCheck, findDuplicateWrites, type CountCheck, type Difference } from './checks';
import { planFaults, type PlannedFault } from './fault-schedule';
import { databaseUrl, FaultsConfigError, loadFaultsConfig, repeatCommand, type FaultsConfig } from './faults-config';
import { AUDIT_SQL, faultsPipelineYaml, LEGACY_SCHEMA_SQL, ORDER_AGGREGATE, SERVICE_NAME, SERVICE_ORIGIN, USER_AGGREGATE } from './faults-pipeline';
import { InfraControl } from './infra.control';
import { LegacyDriver } from './legacy.driver';
import { ManagedProcess } from './managed.process';
import { NewSideDriver } from './new-side.driver';
import { WorkloadError } from './retry';
import { SeededRandom } from './seeded-random';
import { StateReader, type FinalState } from './state.reader';
import { passed, renderSummary, type FaultsSummary, type InjectedFault, type VerifyOutcome } from './summary';
import { applyLegacyOp, applyNewOp, LegacyWorkload, NewSideWorkload, WorkloadModel } from './workload';

// The fault-injection run (scripts/faults.sh starts it; docs/faults.md). Thin orchestration: the
// workload, the fault plan and the checks are the pure modules next to this file.

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (line: string): void => void process.stdout.write(`${line}\n`);

interface Run {
  readonly config: FaultsConfig;
  readonly started: number;
  readonly model: WorkloadModel;
  readonly processes: Map<string, ManagedProcess>;
  readonly faults: InjectedFault[];
  legacyDriven: number;
  newDriven: number;
  stopping: boolean;
}

function elapsed(run: Run): number {
  return (Date.now() - run.started) / 1000;
}

async function createDatabases(config: FaultsConfig, names: readonly string[]): Promise<void> {
  const admin = new Client({ connectionString: config.postgresUrl });
  await admin.connect();
  try {
    for (const name of names) {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name}`);
    }
  } finally {
    await admin.end();
  }
}

function pool(url: string, max: number): Pool {
  const p = new Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 });
  // Idle connections die while PostgreSQL is stopped: expected here, not a crash.
  p.on('error', () => undefined);
  return p;
}

function runNode(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(500);
  }
}

async function main(): Promise<number> {
  const config = loadFaultsConfig(process.env);
  const logDir = path.join(config.runDir, 'logs');
  const pidDir = path.join(config.runDir, 'pids');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(pidDir, { recursive: true });
  const summaryFile = config.summaryFile || path.join(config.runDir, `faults-summary-${config.seed}.json`);
  const command = repeatCommand(config);
  say(`Fault-injection run: seed ${config.seed}, ${config.changes} changes at ~${config.rate}/s (${Math.round(config.newShare * 100)}% from the new side); logs in ${logDir}`);
  say(`Repeat it with: ${command}`);

  // Databases, schema, capture, audit, pipeline file.
  const dbs = { legacy: 'faults_legacy', keymap: 'faults_keymap', service: 'faults_service' };
  await createDatabases(config, Object.values(dbs));
  const urls = { legacy: databaseUrl(config.postgresUrl, dbs.legacy), keymap: databaseUrl(config.postgresUrl, dbs.keymap), service: databaseUrl(config.postgresUrl, dbs.service) };
  const pipelineFile = path.join(config.runDir, 'pipeline.yaml');
  writeFileSync(pipelineFile, faultsPipelineYaml());
  const setup = new Client({ connectionString: urls.legacy });
  await setup.connect();
  await setup.query(LEGACY_SCHEMA_SQL);
  await setup.end();
  const env: Record<string, string> = {
    KAFKA_BROKERS: config.kafkaBrokers,
    PIPELINE_FILE: pipelineFile,
    CRM_DATABASE_URL: urls.legacy,
    KEYMAP_DATABASE_URL: urls.keymap,
    SERVICE_DATABASE_URL: urls.service,
    LOG_LEVEL: config.logLevel,
    SHUTDOWN_TIMEOUT_MS: '10000',
  };
  const schema = await runNode([path.join(repoRoot, 'dist/apps/sync-ctl/src/main.js'), 'schema', '--apply'], env);
  if (schema.code !== 0) throw new Error(`sync-ctl schema --apply failed (${schema.code}): ${schema.stderr}`);
  writeFileSync(path.join(config.runDir, 'capture-ddl.sql'), schema.stdout);
  const audit = new Client({ connectionString: urls.legacy });
  await audit.connect();
  await audit.query(AUDIT_SQL);
  await audit.end();

  const run: Run = { config, started: Date.now(), model: new WorkloadModel(), processes: new Map(), faults: [], legacyDriven: 0, newDriven: 0, stopping: false };
  const restarts = new Map<string, number>();
  const onUnplannedExit = (p: ManagedProcess, code: number | null, signal: NodeJS.Signals | null): void => {
    if (run.stopping) return;
    const n = (restarts.get(p.name) ?? 0) + 1;
    restarts.set(p.name, n);
    const t = elapsed(run);
    say(`[${t.toFixed(0)} s] ${p.name} exited by itself (code ${code}, signal ${signal}); restarting it (log ${p.logFile})`);
    run.faults.push({ kind: 'unplanned-exit', target: p.name, atSeconds: t, at: new Date().toISOString(), atChange: run.legacyDriven + run.newDriven, downMs: 0, detail: `exit code ${code}, signal ${signal}` });
    if (n > 30) {
      say(`${p.name} exited ${n} times: giving up on it`);
      return;
    }
    setTimeout(() => void p.start().catch((err: unknown) => say(`restart of ${p.name} failed: ${String(err)}`)), Math.min(10_000, 1000 * n));
  };
  for (const app of APP_NAMES) {
    run.processes.set(app, new ManagedProcess({ name: app, args: () => [path.join(repoRoot, 'dist/apps', app, 'src/main.js')], env, logDir, pidDir }, onUnplannedExit));
  }
  run.processes.set(
    'new-service',
    new ManagedProcess(
      {
        name: 'new-service',
        args: (port) => [
          path.join(repoRoot, 'dist/examples/new-service/src/main.js'),
          ...['--brokers', config.kafkaBrokers, '--database-url', urls.service, '--user-aggregate', USER_AGGREGATE, '--order-aggregate', ORDER_AGGREGATE, '--name', SERVICE_NAME, '--port', String(port)],
        ],
        env: {},
        logDir,
        pidDir,
      },
      onUnplannedExit,
    ),
  );

  const pools = { legacy: pool(urls.legacy, 3), service: pool(urls.service, 2), keymap: pool(urls.keymap, 1) };
  const connection = new KafkaConnection({ brokers: config.kafkaBrokers.split(','), clientId: 'faults-new-side' }, silentLog);
  const producer = connection.producer();
  const repository = new ServiceRepository(urls.service);
  let summary: FaultsSummary | undefined;
  let aborted: string | undefined;
  try {
    for (const app of APP_NAMES) await run.processes.get(app)!.start();
    await Promise.all(APP_NAMES.map((app) => waitUntil(`${app} ready`, 180_000, async () => (await run.processes.get(app)!.status('/health/ready')) === 200)));
    const service = run.processes.get('new-service')!;
    await service.start();
    await waitUntil('the new service', 120_000, async () => (await service.status('/health')) === 200);
    await repository.connect();
    await producer.connect();
    say(`[${elapsed(run).toFixed(0)} s] the four apps and the new service run (${[...run.processes.values()].map((p) => `${p.name} :${p.port}`).join(', ')})`);

    // Seed, and let the new side take over its half of the seeded users.
    const rng = new SeededRandom(config.seed);
    const workloadOptions = { minUsers: 10 };
    const legacyWorkload = new LegacyWorkload(rng.fork('legacy'), run.model, workloadOptions);
    const newWorkload = new NewSideWorkload(rng.fork('new'), run.model, workloadOptions);
    const legacyDriver = new LegacyDriver(pools.legacy, 240_000);
    const newDriver = new NewSideDriver(repository, new ChangePublisher(producer, new ServiceStats(), { topic: Topics.domain(USER_AGGREGATE, 1), aggregate: USER_AGGREGATE, source: `/services/${SERVICE_NAME}`, origin: SERVICE_ORIGIN }), pools.service, 240_000);
    const seedOp = legacyWorkload.seed(config.seedUsers);
    applyLegacyOp(run.model, seedOp, await legacyDriver.apply(seedOp));
    const seedRows = seedOp.users.length + seedOp.orderTotals.length;
    await waitUntil('the seeded users on the new side', 300_000, async () => {
      const res = await pools.service.query<{ n: number }>(`SELECT count(*)::int AS n FROM users u JOIN addresses a ON a.user_id = u.id WHERE u.name LIKE 'Seed-%'`);
      return res.rows[0]!.n === seedOp.users.length;
    });
    const handed = await pools.service.query<{ id: string; name: string }>(`SELECT id, name FROM users WHERE name LIKE 'Seed-N-%'`);
    for (const r of handed.rows) run.model.handOver(r.name, r.id);
    say(`[${elapsed(run).toFixed(0)} s] seeded ${seedOp.users.length} users (half of them handed to the new side) and ${seedOp.orderTotals.length} orders; driving changes`);

    const plan = planFaults({
      seed: config.seed,
      changes: config.changes,
      apps: APP_NAMES,
      killsPerApp: config.killsPerApp,
      brokerRestarts: config.brokerRestarts,
      postgresStops: config.postgresStops,
      postgresDownMs: config.postgresDownMs,
      brokerDownMs: [3000, 8000],
      appDownMs: [200, 5000],
    });
    say(`Fault plan (${plan.length}): ${plan.map((f) => `${f.kind} ${f.target} @${f.atChange}`).join(', ')}`);

    const infra = new InfraControl(repoRoot);
    const workloadStart = Date.now();
    const legacyQuota = Math.round(config.changes * (1 - config.newShare));
    const newQuota = config.changes - legacyQuota;
    const paced = async (quota: number, share: number, step: () => Promise<void>): Promise<void> => {
      if (quota === 0) return;
      const interval = 1000 / (config.rate * share);
      let next = Date.now();
      for (let i = 0; i < quota && !aborted; i++) {
        await step();
        next = Math.max(next + interval, Date.now() - interval * 5);
        const wait = next - Date.now();
        if (wait > 0) await sleep(wait);
      }
    };
    const fail = (err: unknown): void => {
      aborted ??= err instanceof Error ? err.message : String(err);
    };
    const legacyLoop = paced(legacyQuota, 1 - config.newShare, async () => {
      const op = legacyWorkload.next();
      applyLegacyOp(run.model, op, await legacyDriver.apply(op));
      run.legacyDriven++;
    }).catch(fail);
    const newLoop = paced(newQuota, config.newShare, async () => {
      const op = newWorkload.next();
      await newDriver.apply(op);
      applyNewOp(run.model, op);
      run.newDriven++;
    }).catch(fail);
    let driving = true;
    const faultLoop = (async () => {
      for (const fault of plan) {
        while (driving && !aborted && run.legacyDriven + run.newDriven < fault.atChange) await sleep(200);
        if (aborted) return;
        await inject(run, infra, fault);
      }
    })().catch(fail);
    const progress = setInterval(() => {
      const done = run.faults.filter((f) => f.kind !== 'unplanned-exit').length;
      say(`[${elapsed(run).toFixed(0)} s] changes legacy ${run.legacyDriven}/${legacyQuota}, new ${run.newDriven}/${newQuota}; faults ${done}/${plan.length}; retries legacy ${legacyDriver.retries}, new ${newDriver.retries}`);
    }, 15_000);
    await Promise.all([legacyLoop, newLoop]);
    driving = false;
    await faultLoop;
    clearInterval(progress);
    const workloadSeconds = (Date.now() - workloadStart) / 1000;
    if (aborted) throw new WorkloadError(aborted);
    say(`[${elapsed(run).toFixed(0)} s] workload done: ${run.legacyDriven} legacy and ${run.newDriven} new-side changes in ${workloadSeconds.toFixed(0)} s; waiting for the pipeline to drain (up to ${config.drainSeconds} s)`);

    // Drain: until both databases match the model and every count is complete, or the deadline.
    const reader = new StateReader(pools.legacy, pools.service, pools.keymap, SERVICE_ORIGIN);
    const drainStart = Date.now();
    let drained = false;
    let lastNote = 0;
    for (;;) {
      const state = await reader.read().catch(() => undefined);
      if (state) {
        const { differences, counts } = evaluate(run.model, state, 0, 0);
        if (differences.length === 0 && counts.every((c) => c.ok)) {
          drained = true;
          break;
        }
        if (Date.now() - lastNote > 30_000) {
          lastNote = Date.now();
          say(`[${elapsed(run).toFixed(0)} s] draining: ${differences.length} row difference(s), counts ${counts.filter((c) => !c.ok).map((c) => `${c.name} ${c.actual}/${c.expected}`).join(', ') || 'complete'}`);
        }
      }
      if (Date.now() - drainStart > config.drainSeconds * 1000) break;
      await sleep(3000);
    }
    const drainSeconds = (Date.now() - drainStart) / 1000;
    say(`[${elapsed(run).toFixed(0)} s] ${drained ? 'drained' : 'NOT drained within the deadline'} after ${drainSeconds.toFixed(0)} s; checking`);

    // Final checks.
    const verify = await runNode([path.join(repoRoot, 'dist/apps/sync-ctl/src/main.js'), 'verify', '--all', '--json'], env);
    const verifyOutcomes = parseVerify(verify.stdout);
    writeFileSync(path.join(config.runDir, 'verify.json'), verify.stdout);
    if (verifyOutcomes.length === 0) say(`sync-ctl verify printed no report (exit ${verify.code}): ${verify.stderr.slice(0, 2000)}`);
    const state = await reader.read();
    const { dlq, conflicts } = await kafkaCounts(connection);
    const { differences, counts } = evaluate(run.model, state, dlq, conflicts);
    const ready = await Promise.all(APP_NAMES.map(async (app) => ((await run.processes.get(app)!.status('/health/ready')) === 200 ? app : undefined)));
    const unready = APP_NAMES.filter((a) => !ready.includes(a));
    counts.push(countCheck('apps ready at the end', APP_NAMES.length, APP_NAMES.length - unready.length, unready.length === 0 ? '/health/ready answers 200 on every app' : `not ready: ${unready.join(', ')}`));
    const duplicates = findDuplicateWrites(await reader.auditWrites());
    const base = {
      seed: config.seed,
      command,
      startedAt: new Date(run.started).toISOString(),
      durationSeconds: elapsed(run),
      workloadSeconds,
      drainSeconds,
      drained,
      changes: { legacyToNew: run.legacyDriven, newToLegacy: run.newDriven, seedRows, byKind: run.model.opCounts },
      events: { legacyExpected: run.model.expectedLegacyEvents, newPublished: run.model.publishedNewEvents },
      faults: [...run.faults].sort((a, b) => a.atSeconds - b.atSeconds),
      verify: verifyOutcomes,
      verifyExitCode: verify.code,
      differences,
      duplicates,
      counts,
    };
    summary = { ...base, passed: passed(base) };
  } catch (err) {
    aborted ??= err instanceof Error ? (err.stack ?? err.message) : String(err);
  } finally {
    run.stopping = true;
    await Promise.all([...run.processes.values()].map((p) => p.stop(15_000).catch(() => undefined)));
    await producer.disconnect().catch(() => undefined);
    await repository.close().catch(() => undefined);
    await Promise.all(Object.values(pools).map((p) => p.end().catch(() => undefined)));
  }
  if (aborted || !summary) {
    say(`\nThe run was ABORTED: ${aborted}`);
    say(`Faults injected before: ${run.faults.map((f) => `${f.kind} ${f.target} @${f.atSeconds.toFixed(0)} s`).join(', ') || 'none'}; logs in ${logDir}`);
    writeFileSync(summaryFile, JSON.stringify({ seed: config.seed, command, aborted, faults: run.faults, passed: false }, null, 2));
    say(`Summary (JSON): ${summaryFile}`);
    return 1;
  }
  writeFileSync(summaryFile, JSON.stringify(summary, null, 2));
  say(`\n${renderSummary(summary)}`);
  say(`Summary (JSON): ${summaryFile}`);
  return summary.passed ? 0 : 1;
}

/** Row differences against the model and the count checks, from one read of the databases. */
function evaluate(model: WorkloadModel, state: FinalState, dlq: number, conflicts: number): { differences: Difference[]; counts: CountCheck[] } {
  const differences = [...compareUsers(model, state.legacyUsers, state.serviceUsers), ...compareOrders(model, state.legacyOrders, state.serviceOrders, state.serviceUsers)];
  const counts = [
    countCheck('legacy -> new: events applied', model.expectedLegacyEvents, state.serviceEventsApplied, 'distinct domain events the new service applied vs. those the legacy changes must yield'),
    countCheck('new -> legacy: commands applied', model.publishedNewEvents, state.inboxRows, 'write-back inbox rows of the new side vs. events it published (one command each)'),
    countCheck('parked in id-translation', 0, state.idTranslationParked, 'commands still waiting for a key'),
    countCheck('parked in legacy-writeback', 0, state.writebackParked, 'commands parked on a foreign-key error'),
    countCheck('dead letters (dlq.*)', 0, dlq, 'messages an app gave up on'),
    countCheck('conflicts (sync.conflicts)', 0, conflicts, 'the sides never edit the same row, so none are expected'),
  ];
  return { differences, counts };
}

async function kafkaCounts(connection: KafkaConnection): Promise<{ dlq: number; conflicts: number }> {
  const admin = connection.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    let dlq = 0;
    for (const t of topics.filter((t) => t.startsWith('dlq.'))) dlq += await admin.messageCount(t);
    const conflicts = topics.includes(Topics.conflicts) ? await admin.messageCount(Topics.conflicts) : 0;
    return { dlq, conflicts };
  } finally {
    await admin.disconnect();
  }
}

function parseVerify(stdout: string): VerifyOutcome[] {
  try {
    const parsed = JSON.parse(stdout) as unknown;
    const reports = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
    return reports.map((r) => ({
      entity: String(r['name'] ?? r['entity']),
      agree: r['agree'] === true,
      legacyRows: Number(r['legacyRows'] ?? 0),
      newRows: Number(r['newRows'] ?? 0),
      differences: Array.isArray(r['differences']) ? r['differences'].length : 0,
    }));
  } catch {
    return [];
  }
}

async function inject(run: Run, infra: InfraControl, fault: PlannedFault): Promise<void> {
  const atSeconds = elapsed(run);
  const at = new Date().toISOString();
  const atChange = run.legacyDriven + run.newDriven;
  const t0 = Date.now();
  let detail: string;
  switch (fault.kind) {
    case 'kill-app': {
      const p = run.processes.get(fault.target)!;
      const pid = await p.kill9();
      say(`[${atSeconds.toFixed(0)} s] FAULT kill -9 ${fault.target} (pid ${pid}); restarting it in ${(fault.downMs / 1000).toFixed(1)} s`);
      await sleep(fault.downMs);
      await p.start();
      detail = `pid ${pid} killed, restarted as pid ${p.pid}`;
      break;
    }
    case 'restart-broker': {
      say(`[${atSeconds.toFixed(0)} s] FAULT broker restart: stopping it for ${(fault.downMs / 1000).toFixed(1)} s`);
      await infra.stopBroker();
      await sleep(fault.downMs);
      await infra.startBroker();
      detail = `stopped (SIGTERM) and started again, ${((Date.now() - t0) / 1000).toFixed(1)} s until it answered`;
      break;
    }
    case 'stop-postgres': {
      say(`[${atSeconds.toFixed(0)} s] FAULT PostgreSQL stopped (immediate) for ${(fault.downMs / 1000).toFixed(0)} s`);
      await infra.stopPostgres();
      await sleep(fault.downMs);
      await infra.startPostgres();
      detail = `pg_ctl stop -m immediate, started again after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
      break;
    }
  }
  run.faults.push({ kind: fault.kind, target: fault.target, atSeconds, at, atChange, downMs: Date.now() - t0, detail });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`faults: ${err instanceof FaultsConfigError ? err.message : err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  },
);
