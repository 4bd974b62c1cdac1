import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { APP_NAMES } from '@sync/config';
import { Topics } from '@sync/contracts';
import { KafkaConnection, silentLog } from '@sync/kafka';
import { ChangePublisher } from '../../examples/new-service/src/change.publisher';
import { ServiceRepository } from '../../examples/new-service/src/service.repository';
import { ServiceStats } from '../../examples/new-service/src/service-stats';
import { countCheck, findDuplicateWrites } from './checks';
import { inject } from './fault.injector';
import { planFaults, scenarioOf } from './fault-schedule';
import { classifyDeadLetters, type DeadLetterReport } from './hostile';
import { ScenarioControl } from './scenarios';
import { FaultsConfigError, loadFaultsConfig, repeatCommand, type FaultsConfig } from './faults-config';
import { ORDER_AGGREGATE, SERVICE_NAME, SERVICE_ORIGIN, USER_AGGREGATE } from './faults-pipeline';
import { InfraControl } from './infra.control';
import { LegacyDriver } from './legacy.driver';
import { ManagedProcess } from './managed.process';
import { NewSideDriver } from './new-side.driver';
import { WorkloadError } from './retry';
import { evaluate, kafkaCounts, parseVerify, readDeadLetters } from './run-checks';
import { prepareRun, runNode } from './run-setup';
import { SeededRandom } from './seeded-random';
import { StateReader } from './state.reader';
import { passed, renderSummary, type FaultsSummary, type InjectedFault } from './summary';
import { applyLegacyOp, applyNewOp, LegacyWorkload, NewSideWorkload, WorkloadModel } from './workload';

// The fault-injection run (scripts/faults.sh starts it; docs/faults.md). Thin orchestration: the
// workload, the fault plan and the checks are the pure modules next to this file.

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Readiness recovers by itself after a fault; an app still not ready this long after the drain fails the run. */
const READY_WITHIN_MS = 60_000;

/** The apps whose /health/ready does not answer 200 within `withinMs` (each asked every second). */
async function stillUnready(processes: ReadonlyMap<string, ManagedProcess>, withinMs: number): Promise<string[]> {
  const deadline = Date.now() + withinMs;
  let unready: string[] = [...APP_NAMES];
  for (;;) {
    const answers = await Promise.all(unready.map(async (app) => ((await processes.get(app)!.status('/health/ready')) === 200 ? undefined : app)));
    unready = answers.filter((a): a is string => a !== undefined);
    if (unready.length === 0 || Date.now() >= deadline) return unready;
    await sleep(1000);
  }
}
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

function pool(url: string, max: number): Pool {
  const p = new Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 });
  // Idle connections die while PostgreSQL is stopped: expected here, not a crash.
  p.on('error', () => undefined);
  return p;
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

  const { urls, env, writebackEnv } = await prepareRun(config, repoRoot);

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
    run.processes.set(app, new ManagedProcess({ name: app, args: () => [path.join(repoRoot, 'dist/apps', app, 'src/main.js')], env: app === 'legacy-writeback' ? writebackEnv : env, logDir, pidDir }, onUnplannedExit));
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
  const scenarios = new ScenarioControl(urls.legacy, config.postgresUrl, producer, Topics.domain(USER_AGGREGATE, 1), SERVICE_ORIGIN, `/services/${SERVICE_NAME}`);
  let legacyPaused = false;
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
      rollingRestarts: config.rollingRestarts,
      addColumns: config.addColumns,
      dropColumns: config.dropColumns,
      dropColumnMs: config.dropColumnMs,
      revokes: config.revokes,
      revokeMs: config.revokeMs,
      readOnlySwitches: config.readOnlySwitches,
      readOnlyMs: config.readOnlyMs,
      hostileValues: config.hostileValues,
    });
    say(`Fault plan (${plan.length}): ${plan.map((f) => `${f.kind} ${f.target} @${f.atChange}`).join(', ')}`);

    const infra = new InfraControl(repoRoot);
    const workloadStart = Date.now();
    const legacyQuota = Math.round(config.changes * (1 - config.newShare));
    const newQuota = config.changes - legacyQuota;
    let faultsPending = plan.length > 0;
    const paced = async (quota: number, share: number, step: () => Promise<void>): Promise<void> => {
      if (quota === 0) return;
      const interval = 1000 / (config.rate * share);
      let next = Date.now();
      // Past its quota, a side goes on while faults are still to come: every fault fires under load
      // even when a slow machine (or a long rolling restart) lets the faults fall behind the workload.
      for (let i = 0; (i < quota || faultsPending) && !aborted; i++) {
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
      // While a mapped column is missing the legacy application waits (drop-column; docs/faults.md).
      while (legacyPaused && !aborted) await sleep(200);
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
        run.faults.push(await inject({
              processes: run.processes,
              elapsedSeconds: () => elapsed(run),
              driven: () => run.legacyDriven + run.newDriven,
              say,
              scenarios,
              apps: APP_NAMES,
              pauseLegacy: (p: boolean) => (legacyPaused = p),
            }, infra, fault));
      }
    })()
      .catch(fail)
      .finally(() => (faultsPending = false));
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
    const hostileIds = (): Set<number> => new Set(scenarios.hostile.flatMap((h) => (h.legacyId === undefined ? [] : [h.legacyId])));
    let drained = false;
    let lastDlqRead = 0;
    let hostileNote = '';
    let lastNote = 0;
    for (;;) {
      const state = await reader.read().catch(() => undefined);
      if (state) {
        const { differences, counts } = evaluate(run.model, state, undefined, 0, hostileIds());
        if (differences.length === 0 && counts.every((c) => c.ok)) {
          // The rows agree; with hostile values, also wait until each one's dead letter is there.
          if (scenarios.hostile.length === 0) {
            drained = true;
            break;
          }
          if (Date.now() - lastDlqRead > 10_000) {
            lastDlqRead = Date.now();
            const report = classifyDeadLetters(scenarios.hostile, await readDeadLetters(connection).catch(() => []));
            if (report.expected.every((e) => e.found)) {
              drained = true;
              break;
            }
            hostileNote = `; expected dead letters ${report.expected.filter((e) => e.found).length}/${report.expected.length}`;
          }
        }
        if (Date.now() - lastNote > 30_000) {
          lastNote = Date.now();
          say(`[${elapsed(run).toFixed(0)} s] draining: ${differences.length} row difference(s), counts ${counts.filter((c) => !c.ok).map((c) => `${c.name} ${c.actual}/${c.expected}`).join(', ') || 'complete'}${hostileNote}`);
        }
      }
      if (Date.now() - drainStart > config.drainSeconds * 1000) break;
      await sleep(3000);
    }
    const drainSeconds = (Date.now() - drainStart) / 1000;
    say(`[${elapsed(run).toFixed(0)} s] ${drained ? 'drained' : 'NOT drained within the deadline'} after ${drainSeconds.toFixed(0)} s; checking`);

    // Final checks. The oversize rows go first (uncaptured): verify compares whole tables.
    await scenarios.removeHostileRows();
    const verify = await runNode([path.join(repoRoot, 'dist/apps/sync-ctl/src/main.js'), 'verify', '--all', '--json'], env);
    const verifyOutcomes = parseVerify(verify.stdout);
    writeFileSync(path.join(config.runDir, 'verify.json'), verify.stdout);
    if (verifyOutcomes.length === 0) say(`sync-ctl verify printed no report (exit ${verify.code}): ${verify.stderr.slice(0, 2000)}`);
    const state = await reader.read();
    const { conflicts } = await kafkaCounts(connection);
    const deadLetterReport: DeadLetterReport = classifyDeadLetters(scenarios.hostile, await readDeadLetters(connection));
    const { differences, counts } = evaluate(run.model, state, deadLetterReport, conflicts, hostileIds());
    const unready = await stillUnready(run.processes, READY_WITHIN_MS);
    counts.push(countCheck('apps ready at the end', APP_NAMES.length, APP_NAMES.length - unready.length, unready.length === 0 ? '/health/ready answers 200 on every app' : `not ready within ${READY_WITHIN_MS / 1000} s: ${unready.join(', ')}`));
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
      deadLetters: {
        expected: deadLetterReport.expected.map((e) => ({ kind: e.value.kind, key: e.value.key, expectedTopic: e.value.expectedTopic ?? 'dlq.*', foundOn: e.found && `${e.found.topic}[${e.found.partition}]@${e.found.offset}` })),
        unexpected: deadLetterReport.unexpected.map((u) => ({ topic: u.topic, partition: u.partition, offset: u.offset, reason: u.reason })),
      },
      scenarios: scenarioRows(run.faults, deadLetterReport),
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

/** Per scenario: the faults injected and the hostile values' dead letters (differences and duplicates are the run's). */
function scenarioRows(faults: readonly InjectedFault[], report: DeadLetterReport): FaultsSummary['scenarios'] {
  const names = [...new Set(faults.map((f) => scenarioOf(f.kind)))];
  const hostile = scenarioOf('hostile-oversize');
  if (report.expected.length > 0 && !names.includes(hostile)) names.push(hostile);
  return names.map((name) => ({
    name,
    faults: faults.filter((f) => scenarioOf(f.kind) === name).length,
    deadLettersExpected: name === hostile ? report.expected.length : 0,
    deadLettersFound: name === hostile ? report.expected.filter((e) => e.found).length : 0,
  }));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`faults: ${err instanceof FaultsConfigError ? err.message : err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  },
);
