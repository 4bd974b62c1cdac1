import { SeededRandom } from './seeded-random';

export type FaultKind = 'kill-app' | 'restart-broker' | 'stop-postgres';

/** One fault of the plan: fired when the workload has driven `atChange` changes (both directions together). */
export interface PlannedFault {
  readonly kind: FaultKind;
  /** The app name for kill-app; `kafka` or `postgresql` otherwise. */
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
  rng.shuffle(kinds);
  const slot = ((to - from) * options.changes) / Math.max(1, kinds.length);
  return kinds.map(({ kind, target }, i) => {
    const atChange = Math.max(1, Math.floor(from * options.changes + slot * i + rng.next() * slot));
    const downMs =
      kind === 'stop-postgres'
        ? options.postgresDownMs
        : kind === 'restart-broker'
          ? rng.int(options.brokerDownMs[0], options.brokerDownMs[1])
          : rng.int(options.appDownMs[0], options.appDownMs[1]);
    return { kind, target, atChange, downMs };
  });
}
