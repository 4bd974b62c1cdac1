import { SeededRandom } from './seeded-random';

export type FaultKind =
  | 'kill-app'
  | 'restart-broker'
  | 'stop-postgres'
  | 'rolling-restart'
  | 'add-column'
  | 'drop-column'
  | 'revoke-update'
  | 'read-only'
  | 'hostile-oversize'
  | 'hostile-nul-subject'
  | 'hostile-nul-source'
  | 'kill-replica'
  | 'stop-replica'
  | 'scale-cycle'
  | 'pause-replica';

/** The scenario a fault belongs to (one setting each, reported per scenario). */
export function scenarioOf(kind: FaultKind | 'unplanned-exit'): string {
  switch (kind) {
    case 'kill-app':
    case 'restart-broker':
    case 'stop-postgres':
    case 'unplanned-exit':
      return 'crashes and outages';
    case 'rolling-restart':
      return 'rolling restarts (SIGTERM)';
    case 'add-column':
    case 'drop-column':
      return 'legacy schema changes';
    case 'revoke-update':
      return 'write-back privilege revoked';
    case 'read-only':
      return 'PostgreSQL read-only';
    case 'hostile-oversize':
    case 'hostile-nul-subject':
    case 'hostile-nul-source':
      return 'hostile and oversize values';
    case 'kill-replica':
    case 'stop-replica':
    case 'scale-cycle':
    case 'pause-replica':
      return 'replicas and rebalances';
  }
}

/** One fault of the plan: fired when the workload has driven `atChange` changes (both directions together). */
export interface PlannedFault {
  readonly kind: FaultKind;
  /** The app name for kill-app, the replica's process name for kill-replica and stop-replica; `kafka`, `postgresql` ... otherwise. */
  readonly target: string;
  readonly atChange: number;
  /** kill-app: how long the app stays dead before it is started again; otherwise how long the service stays down. */
  readonly downMs: number;
}

export interface FaultPlanOptions {
  readonly seed: number;
  /** Changes the workload drives in total. */
  readonly changes: number;
  readonly apps: readonly string[];
  readonly killsPerApp: number;
  readonly brokerRestarts: number;
  readonly postgresStops: number;
  readonly postgresDownMs: number;
  readonly brokerDownMs: readonly [number, number];
  readonly appDownMs: readonly [number, number];
  readonly rollingRestarts?: number;
  readonly addColumns?: number;
  readonly dropColumns?: number;
  readonly dropColumnMs?: number;
  readonly revokes?: number;
  readonly revokeMs?: number;
  readonly readOnlySwitches?: number;
  readonly readOnlyMs?: number;
  /** Hostile values of each kind. */
  readonly hostileValues?: number;
  /** Replicas per app: kill-replica and stop-replica act on the apps with more than one. */
  readonly replicas?: Readonly<Record<string, number>>;
  readonly replicaKills?: number;
  readonly replicaStops?: number;
  readonly scaleCycles?: number;
  readonly replicaPauses?: number;
  readonly pauseMs?: number;
  /** Share of the workload within which faults fire, e.g. [0.05, 0.85]: the tail lets the pipeline run fault-free before the drain. */
  readonly window?: readonly [number, number];
}

/**
 * The faults of a run, from its seed: every app killed `killsPerApp` times, the broker restarted
 * and PostgreSQL stopped as asked, in a shuffled order. The window is cut into one slot per fault
 * and each fault fires at a random point of its slot, so faults are spread over the workload and
 * none fires before the previous one's slot began. Pure: the same options give the same plan.
 */
export function planFaults(options: FaultPlanOptions): PlannedFault[] {
  const rng = new SeededRandom(options.seed).fork('faults');
  const [from, to] = options.window ?? [0.05, 0.85];
  if (!(from >= 0 && to <= 1 && from < to)) throw new Error(`fault window must be within [0, 1] and non-empty, got [${from}, ${to}]`);
  const kinds: Array<{ kind: FaultKind; target: string }> = [];
  for (let i = 0; i < options.killsPerApp; i++) for (const app of options.apps) kinds.push({ kind: 'kill-app', target: app });
  for (let i = 0; i < options.brokerRestarts; i++) kinds.push({ kind: 'restart-broker', target: 'kafka' });
  for (let i = 0; i < options.postgresStops; i++) kinds.push({ kind: 'stop-postgres', target: 'postgresql' });
  const add = (n: number | undefined, kind: FaultKind, target: string): void => {
    for (let i = 0; i < (n ?? 0); i++) kinds.push({ kind, target });
  };
  add(options.rollingRestarts, 'rolling-restart', 'every app');
  add(options.addColumns, 'add-column', 'users');
  add(options.dropColumns, 'drop-column', 'users.zip');
  add(options.revokes, 'revoke-update', 'users');
  add(options.readOnlySwitches, 'read-only', 'postgresql');
  add(options.hostileValues, 'hostile-oversize', 'legacy users');
  add(options.hostileValues, 'hostile-nul-subject', 'domain.user.v1');
  add(options.hostileValues, 'hostile-nul-source', 'domain.user.v1');
  // Replica faults pick their replica from their own stream, so the plan of the other faults stays as it was.
  const pick = new SeededRandom(options.seed).fork('replicas');
  const replicated = options.apps.filter((app) => (options.replicas?.[app] ?? 1) > 1);
  const replica = (app: string): string => {
    const i = pick.int(1, options.replicas?.[app] ?? 1);
    return i === 1 ? app : `${app}-${i}`;
  };
  for (let i = 0; i < (options.replicaKills ?? 0); i++) for (const app of replicated) kinds.push({ kind: 'kill-replica', target: replica(app) });
  for (let i = 0; i < (options.replicaStops ?? 0); i++) for (const app of replicated) kinds.push({ kind: 'stop-replica', target: replica(app) });
  if (replicated.length > 0) {
    add(options.scaleCycles, 'scale-cycle', 'every replicated app');
    add(options.replicaPauses, 'pause-replica', 'every replicated app');
  }
  rng.shuffle(kinds);
  const slot = ((to - from) * options.changes) / Math.max(1, kinds.length);
  return kinds.map(({ kind, target }, i) => {
    const atChange = Math.max(1, Math.floor(from * options.changes + slot * i + rng.next() * slot));
    const downMs =
      kind === 'stop-postgres'
        ? options.postgresDownMs
        : kind === 'restart-broker'
          ? rng.int(options.brokerDownMs[0], options.brokerDownMs[1])
          : kind === 'kill-app' || kind === 'kill-replica' || kind === 'stop-replica'
            ? rng.int(options.appDownMs[0], options.appDownMs[1])
            : kind === 'pause-replica'
              ? (options.pauseMs ?? 40_000)
            : kind === 'drop-column'
              ? (options.dropColumnMs ?? 10_000)
              : kind === 'revoke-update'
                ? (options.revokeMs ?? 10_000)
                : kind === 'read-only'
                  ? (options.readOnlyMs ?? 10_000)
                  : 0;
    return { kind, target, atChange, downMs };
  });
}
