import path from 'node:path';
import { APP_NAMES } from '@sync/config';
import { sleep, waitUntil } from '../lib/wait';
import { ORDER_AGGREGATE, SERVICE_NAME, USER_AGGREGATE } from './faults-pipeline';
import { ManagedProcess } from './managed.process';
import { replicaName } from './replicas';
import type { PreparedRun } from './run-setup';
import { elapsed, say, type Run } from './run-state';

/** The four apps and the sample new service as managed processes; one that exits by itself is restarted and recorded as a fault. */
export function createProcesses(run: Run, repoRoot: string, prepared: PreparedRun, dirs: { logDir: string; pidDir: string }): void {
  const { logDir, pidDir } = dirs;
  const onUnplannedExit = restartOnExit(run);
  for (const app of APP_NAMES) {
    // Replicas of an app are the same program with the same settings: one consumer group, shared partitions.
    for (let i = 1; i <= (run.config.replicas[app] ?? 1); i++) {
      const name = replicaName(app, i);
      run.processes.set(name, new ManagedProcess({ name, args: () => [path.join(repoRoot, 'dist/apps', app, 'src/main.js')], env: app === 'legacy-writeback' ? prepared.writebackEnv : prepared.env, logDir, pidDir }, onUnplannedExit));
    }
  }
  run.processes.set(
    'new-service',
    new ManagedProcess(
      {
        name: 'new-service',
        args: (port) => [
          path.join(repoRoot, 'dist/examples/new-service/src/main.js'),
          ...['--brokers', run.config.kafkaBrokers, '--database-url', prepared.urls.service, '--user-aggregate', USER_AGGREGATE, '--order-aggregate', ORDER_AGGREGATE, '--name', SERVICE_NAME, '--port', String(port)],
        ],
        env: {},
        logDir,
        pidDir,
      },
      onUnplannedExit,
    ),
  );
}

function restartOnExit(run: Run): (p: ManagedProcess, code: number | null, signal: NodeJS.Signals | null) => void {
  const restarts = new Map<string, number>();
  return (p, code, signal) => {
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
}

/** Starts the apps, waits until each is ready, then starts the new service and waits for its health. */
export async function startProcesses(run: Run): Promise<void> {
  const apps = appProcesses(run.processes);
  for (const p of apps) await p.start();
  await Promise.all(apps.map((p) => waitUntil(`${p.name} ready`, () => answers(p, '/health/ready'), 180_000, 500)));
  const service = run.processes.get('new-service')!;
  await service.start();
  await waitUntil('the new service', () => answers(service, '/health'), 120_000, 500);
}

async function answers(p: ManagedProcess, route: string): Promise<boolean> {
  return (await p.status(route).catch(() => undefined)) === 200;
}

export async function stopProcesses(run: Run): Promise<void> {
  await Promise.all([...run.processes.values()].map((p) => p.stop(15_000).catch(() => undefined)));
}

/** Every app process (all replicas), without the sample new service. */
export function appProcesses(processes: ReadonlyMap<string, ManagedProcess>): ManagedProcess[] {
  return [...processes.values()].filter((p) => p.name !== 'new-service');
}

/** The app processes (every replica) whose /health/ready does not answer 200 within `withinMs` (each asked every second). */
export async function stillUnready(processes: ReadonlyMap<string, ManagedProcess>, withinMs: number): Promise<string[]> {
  const deadline = Date.now() + withinMs;
  let unready: string[] = appProcesses(processes).map((p) => p.name);
  for (;;) {
    const answers = await Promise.all(unready.map(async (app) => ((await processes.get(app)!.status('/health/ready')) === 200 ? undefined : app)));
    unready = answers.filter((a): a is string => a !== undefined);
    if (unready.length === 0 || Date.now() >= deadline) return unready;
    await sleep(1000);
  }
}
