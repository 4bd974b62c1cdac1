import { Pool } from 'pg';
import { APP_NAMES } from '@sync/config';
import { Topics } from '@sync/contracts';
import type { SyncProducer } from '@sync/kafka';
import { serviceEventMessage, type ServiceChange } from '@sync/nest-events';
import { ChangePublisher } from '../../examples/new-service/src/change.publisher';
import type { ServiceRepository } from '../../examples/new-service/src/service.repository';
import { ServiceStats } from '../../examples/new-service/src/service-stats';
import { sleep, waitUntil } from '../lib/wait';
import { inject } from './fault.injector';
import { planFaults, type PlannedFault } from './fault-schedule';
import type { FaultsConfig } from './faults-config';
import { SERVICE_NAME, SERVICE_ORIGIN, USER_AGGREGATE } from './faults-pipeline';
import type { InfraControl } from './infra.control';
import { LegacyDriver } from './legacy.driver';
import { NewSideDriver } from './new-side.driver';
import { WorkloadError } from './retry';
import { elapsed, say, type Run } from './run-state';
import type { ScenarioControl } from './scenarios';
import { replicaName, replicaNames, replicatedApps } from './replicas';
import { SeededRandom } from './seeded-random';
import { applyLegacyOp, applyNewOp, LegacyWorkload, NewSideWorkload } from './workload';

export interface RunPools {
  readonly legacy: Pool;
  readonly service: Pool;
  readonly keymap: Pool;
}

export function pool(url: string, max: number): Pool {
  const p = new Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 });
  // Idle connections die while PostgreSQL is stopped: expected here, not a crash.
  p.on('error', () => undefined);
  return p;
}

/** Both sides of the workload: what to change next (seeded) and who applies it. */
export interface Sides {
  readonly legacyWorkload: LegacyWorkload;
  readonly newWorkload: NewSideWorkload;
  readonly legacyDriver: LegacyDriver;
  readonly newDriver: NewSideDriver;
}

export function createSides(run: Run, pools: RunPools, repository: ServiceRepository, producer: SyncProducer): Sides {
  const rng = new SeededRandom(run.config.seed);
  const workloadOptions = { minUsers: 10 };
  const eventOptions = { aggregate: USER_AGGREGATE, source: `/services/${SERVICE_NAME}`, origin: SERVICE_ORIGIN };
  // The same messages as the service's ClientKafka sends (serviceEventMessage), through the driver's own producer.
  const sink = { send: (topic: string, change: ServiceChange) => producer.send([{ topic, ...serviceEventMessage(change, eventOptions) }]) };
  const publisher = new ChangePublisher(sink, new ServiceStats(), { topic: Topics.domain(USER_AGGREGATE, 1) });
  return {
    legacyWorkload: new LegacyWorkload(rng.fork('legacy'), run.model, workloadOptions),
    newWorkload: new NewSideWorkload(rng.fork('new'), run.model, workloadOptions),
    legacyDriver: new LegacyDriver(pools.legacy, 240_000),
    newDriver: new NewSideDriver(repository, publisher, pools.service, 240_000),
  };
}

/** Seeds users and orders, and lets the new side take over its half of the seeded users. Returns the rows seeded. */
export async function seed(run: Run, sides: Sides, pools: RunPools): Promise<number> {
  const seedOp = sides.legacyWorkload.seed(run.config.seedUsers);
  applyLegacyOp(run.model, seedOp, await sides.legacyDriver.apply(seedOp));
  await waitUntil(
    'the seeded users on the new side',
    async () => {
      const res = await pools.service.query<{ n: number }>(`SELECT count(*)::int AS n FROM users u JOIN addresses a ON a.user_id = u.id WHERE u.name LIKE 'Seed-%'`).catch(() => undefined);
      return res?.rows[0]!.n === seedOp.users.length;
    },
    300_000,
    500,
  );
  const handed = await pools.service.query<{ id: string; name: string }>(`SELECT id, name FROM users WHERE name LIKE 'Seed-N-%'`);
  for (const r of handed.rows) run.model.handOver(r.name, r.id);
  say(`[${elapsed(run).toFixed(0)} s] seeded ${seedOp.users.length} users (half of them handed to the new side) and ${seedOp.orderTotals.length} orders; driving changes`);
  return seedOp.users.length + seedOp.orderTotals.length;
}

/** The seeded fault plan of the run's settings. */
export function faultPlan(config: FaultsConfig): PlannedFault[] {
  return planFaults({
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
    replicas: config.replicas,
    replicaKills: config.replicaKills,
    replicaStops: config.replicaStops,
    scaleCycles: config.scaleCycles,
    replicaPauses: config.replicaPauses,
    pauseMs: config.pauseMs,
  });
}

/**
 * Drives both sides at the configured rate while the planned faults fire at their change counts.
 * Returns the seconds the workload took; throws WorkloadError when a side or a fault failed.
 */
export async function driveWorkload(run: Run, sides: Sides, plan: readonly PlannedFault[], scenarios: ScenarioControl, infra: InfraControl): Promise<number> {
  const { config } = run;
  const workloadStart = Date.now();
  const legacyQuota = Math.round(config.changes * (1 - config.newShare));
  const newQuota = config.changes - legacyQuota;
  const state = { legacyPaused: false, faultsPending: plan.length > 0, driving: true };
  const fail = (err: unknown): void => {
    run.aborted ??= err instanceof Error ? err.message : String(err);
  };
  const legacyLoop = paced(run, state, legacyQuota, 1 - config.newShare, async () => {
    // While a mapped column is missing the legacy application waits (drop-column; docs/faults.md).
    while (state.legacyPaused && !run.aborted) await sleep(200);
    const op = sides.legacyWorkload.next();
    applyLegacyOp(run.model, op, await sides.legacyDriver.apply(op));
    run.legacyDriven++;
  }).catch(fail);
  const newLoop = paced(run, state, newQuota, config.newShare, async () => {
    const op = sides.newWorkload.next();
    await sides.newDriver.apply(op);
    applyNewOp(run.model, op);
    run.newDriven++;
  }).catch(fail);
  const faultLoop = injectFaults(run, state, plan, scenarios, infra)
    .catch(fail)
    .finally(() => (state.faultsPending = false));
  const progress = setInterval(() => {
    const done = run.faults.filter((f) => f.kind !== 'unplanned-exit').length;
    say(`[${elapsed(run).toFixed(0)} s] changes legacy ${run.legacyDriven}/${legacyQuota}, new ${run.newDriven}/${newQuota}; faults ${done}/${plan.length}; retries legacy ${sides.legacyDriver.retries}, new ${sides.newDriver.retries}`);
  }, 15_000);
  await Promise.all([legacyLoop, newLoop]);
  state.driving = false;
  await faultLoop;
  clearInterval(progress);
  const workloadSeconds = (Date.now() - workloadStart) / 1000;
  if (run.aborted) throw new WorkloadError(run.aborted);
  return workloadSeconds;
}

interface DriveState {
  legacyPaused: boolean;
  faultsPending: boolean;
  driving: boolean;
}

/** Runs `step` `quota` times at `rate × share` per second (open loop: a late step does not slow the ones after). */
async function paced(run: Run, state: DriveState, quota: number, share: number, step: () => Promise<void>): Promise<void> {
  if (quota === 0) return;
  const interval = 1000 / (run.config.rate * share);
  let next = Date.now();
  // Past its quota, a side goes on while faults are still to come: every fault fires under load
  // even when a slow machine (or a long rolling restart) lets the faults fall behind the workload.
  for (let i = 0; (i < quota || state.faultsPending) && !run.aborted; i++) {
    await step();
    next = Math.max(next + interval, Date.now() - interval * 5);
    const wait = next - Date.now();
    if (wait > 0) await sleep(wait);
  }
}

/** Fires each planned fault once the workload reached its change count. */
async function injectFaults(run: Run, state: DriveState, plan: readonly PlannedFault[], scenarios: ScenarioControl, infra: InfraControl): Promise<void> {
  const { config } = run;
  for (const fault of plan) {
    while (state.driving && !run.aborted && run.legacyDriven + run.newDriven < fault.atChange) await sleep(200);
    if (run.aborted) return;
    run.faults.push(
      await inject(
        {
          processes: run.processes,
          elapsedSeconds: () => elapsed(run),
          driven: () => run.legacyDriven + run.newDriven,
          say,
          scenarios,
          apps: replicaNames(config.replicas),
          lastReplicas: replicatedApps(config.replicas).map((app) => replicaName(app, config.replicas[app] ?? 1)),
          pauseLegacy: (p: boolean) => (state.legacyPaused = p),
        },
        infra,
        fault,
      ),
    );
  }
}
