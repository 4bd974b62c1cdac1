import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Topics } from '@sync/contracts';
import { KafkaConnection, silentLog } from '@sync/kafka';
import { ServiceRepository } from '../../examples/new-service/src/service.repository';
import { repoRoot } from '../lib/script-main';
import { FaultsConfigError, loadFaultsConfig, repeatCommand, type FaultsConfig } from './faults-config';
import { SERVICE_NAME, SERVICE_ORIGIN, USER_AGGREGATE } from './faults-pipeline';
import { InfraControl } from './infra.control';
import { drain } from './run-drain';
import { createProcesses, startProcesses, stopProcesses } from './run-processes';
import { finalChecks, report } from './run-report';
import { prepareRun } from './run-setup';
import { elapsed, say, type Run } from './run-state';
import { createSides, driveWorkload, faultPlan, pool, seed } from './run-workload';
import { formatReplicas, replicatedApps } from './replicas';
import { ScenarioControl } from './scenarios';
import { StateReader } from './state.reader';
import type { FaultsSummary } from './summary';
import { WorkloadModel } from './workload';

// The fault-injection run (scripts/faults.sh starts it; docs/faults.md). Thin orchestration: the
// steps are the run-*.ts modules; the workload, the fault plan and the checks are the pure modules
// next to this file.

/** The run's directories and the files it writes; prints how to repeat it. */
function openRun(config: FaultsConfig): { logDir: string; pidDir: string; summaryFile: string; command: string } {
  const logDir = path.join(config.runDir, 'logs');
  const pidDir = path.join(config.runDir, 'pids');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(pidDir, { recursive: true });
  const summaryFile = config.summaryFile || path.join(config.runDir, `faults-summary-${config.seed}.json`);
  const command = repeatCommand(config);
  say(`Fault-injection run: seed ${config.seed}, ${config.changes} changes at ~${config.rate}/s (${Math.round(config.newShare * 100)}% from the new side); logs in ${logDir}`);
  if (replicatedApps(config.replicas).length > 0) say(`Replicas: ${formatReplicas(config.replicas)}; ${config.partitions} partitions per topic`);
  say(`Repeat it with: ${command}`);
  return { logDir, pidDir, summaryFile, command };
}

async function main(): Promise<number> {
  const config = loadFaultsConfig(process.env);
  const files = openRun(config);
  const prepared = await prepareRun(config, repoRoot);
  const { urls, env } = prepared;

  const run: Run = { config, started: Date.now(), model: new WorkloadModel(), processes: new Map(), faults: [], legacyDriven: 0, newDriven: 0, stopping: false };
  createProcesses(run, repoRoot, prepared, files);
  const pools = { legacy: pool(urls.legacy, 3), service: pool(urls.service, 2), keymap: pool(urls.keymap, 1) };
  const connection = new KafkaConnection({ brokers: config.kafkaBrokers.split(','), clientId: 'faults-new-side' }, silentLog);
  const producer = connection.producer();
  const repository = new ServiceRepository(urls.service);
  const scenarios = new ScenarioControl(urls.legacy, config.postgresUrl, producer, Topics.domain(USER_AGGREGATE, 1), SERVICE_ORIGIN, `/services/${SERVICE_NAME}`);
  let summary: FaultsSummary | undefined;
  try {
    await startProcesses(run);
    await repository.connect();
    await producer.connect();
    say(`[${elapsed(run).toFixed(0)} s] the four apps and the new service run (${[...run.processes.values()].map((p) => `${p.name} :${p.port}`).join(', ')})`);

    const sides = createSides(run, pools, repository, producer);
    const seedRows = await seed(run, sides, pools);
    const plan = faultPlan(config);
    say(`Fault plan (${plan.length}): ${plan.map((f) => `${f.kind} ${f.target} @${f.atChange}`).join(', ')}`);
    const workloadSeconds = await driveWorkload(run, sides, plan, scenarios, new InfraControl(repoRoot));
    say(`[${elapsed(run).toFixed(0)} s] workload done: ${run.legacyDriven} legacy and ${run.newDriven} new-side changes in ${workloadSeconds.toFixed(0)} s; waiting for the pipeline to drain (up to ${config.drainSeconds} s)`);

    const reader = new StateReader(pools.legacy, pools.service, pools.keymap, SERVICE_ORIGIN);
    const { drained, drainSeconds } = await drain(run, reader, scenarios, connection);
    say(`[${elapsed(run).toFixed(0)} s] ${drained ? 'drained' : 'NOT drained within the deadline'} after ${drainSeconds.toFixed(0)} s; checking`);
    summary = await finalChecks(run, { command: files.command, seedRows, workloadSeconds, drainSeconds, drained }, { repoRoot, env, reader, scenarios, connection });
  } catch (err) {
    run.aborted ??= err instanceof Error ? (err.stack ?? err.message) : String(err);
  } finally {
    run.stopping = true;
    await stopProcesses(run);
    await producer.disconnect().catch(() => undefined);
    await repository.close().catch(() => undefined);
    await Promise.all(Object.values(pools).map((p) => p.end().catch(() => undefined)));
  }
  return report(run, summary, files);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`faults: ${err instanceof FaultsConfigError ? err.message : err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  },
);
