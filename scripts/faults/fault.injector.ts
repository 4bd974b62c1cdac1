import type { PlannedFault } from './fault-schedule';
import type { InfraControl } from './infra.control';
import type { ManagedProcess } from './managed.process';
import type { InjectedFault } from './summary';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a fault needs from the run: its processes, its clock and how far the workload got. */
export interface FaultContext {
  readonly processes: ReadonlyMap<string, ManagedProcess>;
  elapsedSeconds(): number;
  driven(): number;
  say(line: string): void;
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
  }
  return { kind: fault.kind, target: fault.target, atSeconds, at, atChange, downMs: Date.now() - t0, detail };
}
