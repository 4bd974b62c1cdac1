import type { PlannedFault } from './fault-schedule';
import type { InfraControl } from './infra.control';
import type { ManagedProcess } from './managed.process';
import type { ScenarioControl } from './scenarios';
import type { InjectedFault } from './summary';
import { readFileSync, statSync } from 'node:fs';
import { sleep } from '../lib/wait';

/** What a fault needs from the run: its processes, its clock and how far the workload got. */
export interface FaultContext {
  readonly processes: ReadonlyMap<string, ManagedProcess>;
  elapsedSeconds(): number;
  driven(): number;
  say(line: string): void;
  readonly scenarios: ScenarioControl;
  /** The app processes a rolling restart goes through, in order (every replica). */
  readonly apps: readonly string[];
  /** The last replica of each app running several: what scale-cycle and pause-replica act on. */
  readonly lastReplicas: readonly string[];
  /** Pauses the legacy side's writes while a mapped column is missing (see drop-column). */
  pauseLegacy(paused: boolean): void;
}

/** Bound on a graceful stop (the apps get SHUTDOWN_TIMEOUT_MS 10 s) and on readiness after a start. */
const GRACEFUL_STOP_MS = 30_000;
const READY_AFTER_START_MS = 120_000;
/** How long each step of a scale cycle runs under load before the next. */
const SCALE_STEP_MS = 8_000;
/** What a replica resumed after its session expired logs when it drops the batch it held (libs/kafka). */
const ZOMBIE_LOG_LINES = ['group membership lost', 'batch abandoned: partition revoked', 'not committing: the partition was revoked'];

function processOf(ctx: FaultContext, name: string): ManagedProcess {
  const p = ctx.processes.get(name);
  if (!p) throw new Error(`no process ${name}`);
  return p;
}

function logSize(p: ManagedProcess): number {
  try {
    return statSync(p.logFile).size;
  } catch {
    return 0;
  }
}

/** How often each zombie line appears in a process's log after `from` (bytes). */
function zombieLines(p: ManagedProcess, from: number): string {
  let text = '';
  try {
    text = readFileSync(p.logFile).subarray(from).toString();
  } catch {
    return 'log unreadable';
  }
  return ZOMBIE_LOG_LINES.map((line) => `${text.split(line).length - 1} × "${line}"`).join(', ');
}

const seconds = (ms: number | undefined): string => (ms === undefined ? `NOT ready within ${READY_AFTER_START_MS / 1000} s` : `ready ${(ms / 1000).toFixed(1)} s after start`);

/** ms until /health/ready answers 200, undefined if it does not within the bound (reported; the rollout goes on, the final readiness check fails the run). */
async function waitReady(p: ManagedProcess): Promise<number | undefined> {
  const t0 = Date.now();
  while ((await p.status('/health/ready')) !== 200) {
    if (Date.now() - t0 > READY_AFTER_START_MS) return undefined;
    await sleep(500);
  }
  return Date.now() - t0;
}

/** Fires one planned fault and reports it as it happened. */
export async function inject(ctx: FaultContext, infra: InfraControl, fault: PlannedFault): Promise<InjectedFault> {
  const atSeconds = ctx.elapsedSeconds();
  const at = new Date().toISOString();
  const atChange = ctx.driven();
  const t0 = Date.now();
  const now = `[${atSeconds.toFixed(0)} s]`;
  let detail: string;
  switch (fault.kind) {
    case 'kill-app': {
      const p = ctx.processes.get(fault.target);
      if (!p) throw new Error(`no process ${fault.target} to kill`);
      const pid = await p.kill9();
      ctx.say(`${now} FAULT kill -9 ${fault.target} (pid ${pid}); restarting it in ${(fault.downMs / 1000).toFixed(1)} s`);
      await sleep(fault.downMs);
      await p.start();
      detail = `pid ${pid} killed, restarted as pid ${p.pid}`;
      break;
    }
    case 'kill-replica': {
      const p = processOf(ctx, fault.target);
      const pid = await p.kill9();
      ctx.say(`${now} FAULT kill -9 of one replica: ${fault.target} (pid ${pid}); the others take its partitions; restarting it in ${(fault.downMs / 1000).toFixed(1)} s`);
      await sleep(fault.downMs);
      await p.start();
      detail = `pid ${pid} killed, restarted as pid ${p.pid}, ${seconds(await waitReady(p))}`;
      break;
    }
    case 'stop-replica': {
      const p = processOf(ctx, fault.target);
      const pid = p.pid;
      const exit = await p.stop(GRACEFUL_STOP_MS);
      ctx.say(`${now} FAULT scale down: ${fault.target} (pid ${pid}) stopped by SIGTERM (${exit}); started again in ${(fault.downMs / 1000).toFixed(1)} s`);
      await sleep(fault.downMs);
      await p.start();
      detail = `SIGTERM (${exit}), started again as pid ${p.pid}, ${seconds(await waitReady(p))}`;
      break;
    }
    case 'scale-cycle': {
      // Every replicated app at once: 2 → 1 → 2 → 1 → 2 replicas, each step under load for SCALE_STEP_MS.
      const ps = ctx.lastReplicas.map((name) => processOf(ctx, name));
      const steps: string[] = [];
      for (let round = 1; round <= 2; round++) {
        const exits = await Promise.all(ps.map((p) => p.stop(GRACEFUL_STOP_MS)));
        ctx.say(`[${ctx.elapsedSeconds().toFixed(0)} s] FAULT scale cycle ${round}/2: ${ctx.lastReplicas.join(', ')} scaled down (SIGTERM: ${exits.join(', ')})`);
        steps.push(`down (${exits.join(', ')})`);
        await sleep(SCALE_STEP_MS);
        await Promise.all(ps.map((p) => p.start()));
        const ready = await Promise.all(ps.map((p) => waitReady(p)));
        ctx.say(`[${ctx.elapsedSeconds().toFixed(0)} s] FAULT scale cycle ${round}/2: scaled up again (${ready.map(seconds).join(', ')})`);
        steps.push(`up (${ready.map(seconds).join(', ')})`);
        await sleep(SCALE_STEP_MS);
      }
      detail = `${ctx.lastReplicas.join(', ')}: ${steps.join(' → ')}`;
      break;
    }
    case 'pause-replica': {
      // The zombie: frozen with its batch and its membership, expelled after the session timeout, then woken up.
      const ps = ctx.lastReplicas.map((name) => processOf(ctx, name));
      const from = ps.map(logSize);
      for (const p of ps) p.pause();
      ctx.say(`${now} FAULT SIGSTOP ${ctx.lastReplicas.join(', ')} for ${(fault.downMs / 1000).toFixed(0)} s (past the 30 s session timeout), then SIGCONT`);
      await sleep(fault.downMs);
      for (const p of ps) p.resume();
      const ready = await Promise.all(ps.map((p) => waitReady(p)));
      await sleep(2_000);
      detail = ps.map((p, i) => `${p.name}: ${zombieLines(p, from[i]!)}; ${ready[i] === undefined ? 'NOT ready again' : `ready ${(ready[i]! / 1000).toFixed(1)} s after SIGCONT`}`).join('; ');
      ctx.say(`[${ctx.elapsedSeconds().toFixed(0)} s] resumed: ${detail}`);
      break;
    }
    case 'restart-broker': {
      ctx.say(`${now} FAULT broker restart: stopping it for ${(fault.downMs / 1000).toFixed(1)} s`);
      await infra.stopBroker();
      await sleep(fault.downMs);
      await infra.startBroker();
      detail = `stopped (SIGTERM) and started again, ${((Date.now() - t0) / 1000).toFixed(1)} s until it answered`;
      break;
    }
    case 'stop-postgres': {
      ctx.say(`${now} FAULT PostgreSQL stopped (immediate) for ${(fault.downMs / 1000).toFixed(0)} s`);
      await infra.stopPostgres();
      await sleep(fault.downMs);
      await infra.startPostgres();
      detail = `pg_ctl stop -m immediate, started again after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
      break;
    }
    case 'rolling-restart': {
      // As a rollout does it: one app at a time, SIGTERM, wait for the exit, start, wait until ready.
      const steps: string[] = [];
      for (const app of ctx.apps) {
        const p = ctx.processes.get(app);
        if (!p) throw new Error(`no process ${app} to restart`);
        const pid = p.pid;
        const t = Date.now();
        const exit = await p.stop(GRACEFUL_STOP_MS);
        ctx.say(`[${ctx.elapsedSeconds().toFixed(0)} s] FAULT rolling restart: ${app} (pid ${pid}) stopped by SIGTERM in ${((Date.now() - t) / 1000).toFixed(1)} s (${exit})`);
        await p.start();
        const readyMs = await waitReady(p);
        if (readyMs === undefined) ctx.say(`[${ctx.elapsedSeconds().toFixed(0)} s] rolling restart: ${app} NOT ready ${READY_AFTER_START_MS / 1000} s after its start; going on`);
        steps.push(`${app} ${exit}, ${readyMs === undefined ? `NOT ready within ${READY_AFTER_START_MS / 1000} s` : `ready ${(readyMs / 1000).toFixed(1)} s after start`}`);
      }
      detail = steps.join('; ');
      break;
    }
    case 'add-column': {
      const column = await ctx.scenarios.addColumn();
      ctx.say(`${now} FAULT ALTER TABLE users ADD COLUMN ${column} ... DEFAULT`);
      detail = `column ${column} added with a default`;
      break;
    }
    case 'drop-column': {
      ctx.say(`${now} FAULT users.zip (mapped) dropped for ${(fault.downMs / 1000).toFixed(0)} s; the legacy application pauses meanwhile`);
      ctx.pauseLegacy(true);
      try {
        await ctx.scenarios.dropZip();
        await sleep(fault.downMs);
        const restored = await ctx.scenarios.restoreZip();
        detail = `dropped, re-added after ${((Date.now() - t0) / 1000).toFixed(1)} s with the values of ${restored} rows`;
      } finally {
        ctx.pauseLegacy(false);
      }
      break;
    }
    case 'revoke-update': {
      ctx.say(`${now} FAULT REVOKE UPDATE ON users FROM the write-back's role for ${(fault.downMs / 1000).toFixed(0)} s`);
      await ctx.scenarios.revokeUpdate();
      await sleep(fault.downMs);
      await ctx.scenarios.grantUpdate();
      detail = `revoked, granted again after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
      break;
    }
    case 'read-only': {
      ctx.say(`${now} FAULT PostgreSQL read-only (default_transaction_read_only = on) for ${(fault.downMs / 1000).toFixed(0)} s`);
      await ctx.scenarios.readOnly(true);
      await sleep(fault.downMs);
      await ctx.scenarios.readOnly(false);
      detail = `read-only, writable again after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
      break;
    }
    case 'hostile-oversize': {
      const h = await ctx.scenarios.insertOversize();
      ctx.say(`${now} HOSTILE legacy user id ${h.key} with a 2 MB street (expected in ${h.expectedTopic})`);
      detail = `legacy users id ${h.key}, street 2 MiB`;
      break;
    }
    case 'hostile-nul-subject':
    case 'hostile-nul-source': {
      const h = await ctx.scenarios.publishNul(fault.kind === 'hostile-nul-subject' ? 'subject' : 'source');
      ctx.say(`${now} HOSTILE new-side event ${h.key} (NUL in ${fault.kind === 'hostile-nul-subject' ? 'ce_subject and the key' : 'ce_source'})`);
      detail = `event ${h.key}`;
      break;
    }
  }
  return { kind: fault.kind, target: fault.target, atSeconds, at, atChange, downMs: Date.now() - t0, detail };
}
