import { formatReplicas, parseReplicas, type ReplicaCounts } from './replicas';
import { parseSeed } from './seeded-random';

/** The run's settings, from the environment scripts/faults.sh passes (docs/faults.md). */
export interface FaultsConfig {
  readonly seed: number;
  /** Changes driven in total, both directions together. */
  readonly changes: number;
  /** Target changes per second, both directions together. */
  readonly rate: number;
  /** Share of the changes made by the new side (0..1). */
  readonly newShare: number;
  readonly seedUsers: number;
  readonly killsPerApp: number;
  readonly brokerRestarts: number;
  readonly postgresStops: number;
  readonly postgresDownMs: number;
  /** Rolling restarts: each one SIGTERMs every app in turn, waits for its exit, starts it and waits until it is ready. */
  readonly rollingRestarts: number;
  /** ALTER TABLE users ADD COLUMN ... DEFAULT under load. */
  readonly addColumns: number;
  /** A mapped column (users.zip) dropped, then re-added with its values after `dropColumnMs`. */
  readonly dropColumns: number;
  readonly dropColumnMs: number;
  /** The write-back role loses UPDATE on users, regains it after `revokeMs`. */
  readonly revokes: number;
  readonly revokeMs: number;
  /** The cluster switched to read-only (default_transaction_read_only) for `readOnlyMs`. */
  readonly readOnlySwitches: number;
  readonly readOnlyMs: number;
  /** Hostile values of each kind (oversize legacy row, NUL in ce_subject, NUL in ce_source): expected dead letters. */
  readonly hostileValues: number;
  /** Replicas per app (FAULTS_REPLICAS `app=n,...`; 1 each by default). */
  readonly replicas: ReplicaCounts;
  /** Partitions of every topic the apps create (FAULTS_PARTITIONS; default 1, or 4 when an app has several replicas). */
  readonly partitions: number;
  /** kill -9 of one replica, per app with several replicas; restarted after a pause. */
  readonly replicaKills: number;
  /** SIGTERM of one replica (scale down), per app with several replicas; started again after a pause (scale up). */
  readonly replicaStops: number;
  /** Scale cycles: the last replica of every replicated app stopped, started, stopped, started again (2→1→2→1→2). */
  readonly scaleCycles: number;
  /** The last replica of every replicated app paused (SIGSTOP) for `pauseMs`, past the session timeout, then resumed (SIGCONT). */
  readonly replicaPauses: number;
  readonly pauseMs: number;
  readonly drainSeconds: number;
  /** PostgreSQL of the run (its own cluster): the admin URL; the run's databases are created on it. */
  readonly postgresUrl: string;
  readonly kafkaBrokers: string;
  readonly runDir: string;
  readonly summaryFile: string;
  readonly logLevel: string;
}

export class FaultsConfigError extends Error {}

export function loadFaultsConfig(env: Readonly<Record<string, string | undefined>>, fresh?: () => number): FaultsConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const text = raw.trim().replaceAll('_', '').replaceAll(',', '');
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      problems.push(`${name}: must be an integer between ${min} and ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const share = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || n > 1) {
      problems.push(`${name}: must be a number between 0 and 1, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const required = (name: string): string => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') {
      problems.push(`${name}: required (scripts/faults.sh sets it)`);
      return '';
    }
    return raw.trim();
  };
  let seed = 0;
  try {
    seed = parseSeed(env['FAULTS_SEED'], fresh);
  } catch (err) {
    problems.push((err as Error).message);
  }
  const replicas = parseReplicas(env['FAULTS_REPLICAS']);
  problems.push(...replicas.problems);
  const replicated = Object.values(replicas.counts).some((n) => n > 1);
  const config: FaultsConfig = {
    seed,
    changes: int('FAULTS_CHANGES', 20_000, 100, 10_000_000),
    rate: int('FAULTS_RATE', 40, 1, 10_000),
    newShare: share('FAULTS_NEW_SHARE', 0.5),
    seedUsers: int('FAULTS_SEED_USERS', 200, 20, 100_000),
    killsPerApp: int('FAULTS_KILLS_PER_APP', 2, 0, 100),
    brokerRestarts: int('FAULTS_BROKER_RESTARTS', 1, 0, 100),
    postgresStops: int('FAULTS_PG_STOPS', 1, 0, 100),
    postgresDownMs: int('FAULTS_PG_DOWN_SECONDS', 20, 1, 3600) * 1000,
    rollingRestarts: int('FAULTS_ROLLING_RESTARTS', 2, 0, 100),
    addColumns: int('FAULTS_ADD_COLUMNS', 1, 0, 20),
    dropColumns: int('FAULTS_DROP_COLUMNS', 1, 0, 20),
    dropColumnMs: int('FAULTS_DROP_COLUMN_SECONDS', 10, 1, 3600) * 1000,
    revokes: int('FAULTS_REVOKES', 1, 0, 20),
    revokeMs: int('FAULTS_REVOKE_SECONDS', 10, 1, 3600) * 1000,
    readOnlySwitches: int('FAULTS_READ_ONLY', 1, 0, 20),
    readOnlyMs: int('FAULTS_READ_ONLY_SECONDS', 10, 1, 3600) * 1000,
    hostileValues: int('FAULTS_HOSTILE', 1, 0, 100),
    replicas: replicas.counts,
    partitions: int('FAULTS_PARTITIONS', replicated ? 4 : 1, 1, 64),
    replicaKills: int('FAULTS_REPLICA_KILLS', 0, 0, 20),
    replicaStops: int('FAULTS_REPLICA_STOPS', 0, 0, 20),
    scaleCycles: int('FAULTS_SCALE_CYCLES', 0, 0, 20),
    replicaPauses: int('FAULTS_REPLICA_PAUSES', 0, 0, 20),
    // The apps' consumers have a 30 s session timeout: a shorter pause is no zombie.
    pauseMs: int('FAULTS_PAUSE_SECONDS', 40, 1, 3600) * 1000,
    drainSeconds: int('FAULTS_DRAIN_SECONDS', 600, 10, 86_400),
    postgresUrl: required('FAULTS_PG_URL'),
    kafkaBrokers: required('KAFKA_BROKERS'),
    runDir: required('FAULTS_RUN_DIR'),
    summaryFile: env['FAULTS_SUMMARY_FILE']?.trim() || '',
    logLevel: env['FAULTS_LOG_LEVEL']?.trim() || 'warn',
  };
  if (problems.length > 0) throw new FaultsConfigError(`Invalid fault-run settings:\n  ${problems.join('\n  ')}`);
  return config;
}

/** The same database URL with another database name. */
export function databaseUrl(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The command that repeats a run: the seed, and every setting that shapes the workload or the fault plan. */
export function repeatCommand(c: FaultsConfig): string {
  const defaults = loadFaultsConfig({ FAULTS_PG_URL: 'x', KAFKA_BROKERS: 'x', FAULTS_RUN_DIR: 'x', FAULTS_SEED: '0' });
  const vars: Array<[string, number, number]> = [
    ['FAULTS_RATE', c.rate, defaults.rate],
    ['FAULTS_NEW_SHARE', c.newShare, defaults.newShare],
    ['FAULTS_SEED_USERS', c.seedUsers, defaults.seedUsers],
    ['FAULTS_KILLS_PER_APP', c.killsPerApp, defaults.killsPerApp],
    ['FAULTS_BROKER_RESTARTS', c.brokerRestarts, defaults.brokerRestarts],
    ['FAULTS_PG_STOPS', c.postgresStops, defaults.postgresStops],
    ['FAULTS_PG_DOWN_SECONDS', c.postgresDownMs / 1000, defaults.postgresDownMs / 1000],
    ['FAULTS_ROLLING_RESTARTS', c.rollingRestarts, defaults.rollingRestarts],
    ['FAULTS_ADD_COLUMNS', c.addColumns, defaults.addColumns],
    ['FAULTS_DROP_COLUMNS', c.dropColumns, defaults.dropColumns],
    ['FAULTS_DROP_COLUMN_SECONDS', c.dropColumnMs / 1000, defaults.dropColumnMs / 1000],
    ['FAULTS_REVOKES', c.revokes, defaults.revokes],
    ['FAULTS_REVOKE_SECONDS', c.revokeMs / 1000, defaults.revokeMs / 1000],
    ['FAULTS_READ_ONLY', c.readOnlySwitches, defaults.readOnlySwitches],
    ['FAULTS_READ_ONLY_SECONDS', c.readOnlyMs / 1000, defaults.readOnlyMs / 1000],
    ['FAULTS_HOSTILE', c.hostileValues, defaults.hostileValues],
  ];
  vars.push(
    ['FAULTS_PARTITIONS', c.partitions, Object.values(c.replicas).some((n) => n > 1) ? 4 : 1],
    ['FAULTS_REPLICA_KILLS', c.replicaKills, defaults.replicaKills],
    ['FAULTS_REPLICA_STOPS', c.replicaStops, defaults.replicaStops],
    ['FAULTS_SCALE_CYCLES', c.scaleCycles, defaults.scaleCycles],
    ['FAULTS_REPLICA_PAUSES', c.replicaPauses, defaults.replicaPauses],
    ['FAULTS_PAUSE_SECONDS', c.pauseMs / 1000, defaults.pauseMs / 1000],
  );
  const changed = vars.filter(([, v, d]) => v !== d).map(([name, v]) => `${name}=${v}`);
  if (formatReplicas(c.replicas) !== formatReplicas(defaults.replicas)) changed.unshift(`FAULTS_REPLICAS=${formatReplicas(c.replicas)}`);
  return [`FAULTS_SEED=${c.seed}`, `FAULTS_CHANGES=${c.changes}`, ...changed, 'npm run test:faults'].join(' ');
}
