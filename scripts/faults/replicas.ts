import { APP_NAMES } from '@sync/config';

/** Replicas per app in a fault run (FAULTS_REPLICAS); every app has at least one. */
export type ReplicaCounts = Readonly<Record<string, number>>;

export const MAX_REPLICAS = 4;

/**
 * Parses `app=n,app=n` (apps not named keep 1 replica). Returns the counts, or the problems found,
 * each naming the setting.
 */
export function parseReplicas(raw: string | undefined): { counts: ReplicaCounts; problems: string[] } {
  const counts: Record<string, number> = Object.fromEntries(APP_NAMES.map((app) => [app, 1]));
  const problems: string[] = [];
  for (const part of (raw ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const match = /^([a-z-]+)\s*=\s*(\d+)$/.exec(part);
    const app = match?.[1];
    const n = Number(match?.[2]);
    if (!match || app === undefined) problems.push(`FAULTS_REPLICAS: "${part}" is not app=count`);
    else if (!(APP_NAMES as readonly string[]).includes(app)) problems.push(`FAULTS_REPLICAS: unknown app "${app}" (one of ${APP_NAMES.join(', ')})`);
    else if (!Number.isInteger(n) || n < 1 || n > MAX_REPLICAS) problems.push(`FAULTS_REPLICAS: ${app} must have 1 to ${MAX_REPLICAS} replicas, got ${match[2]}`);
    else counts[app] = n;
  }
  return { counts, problems };
}

/** The process name of an app's i-th replica (1-based): the first keeps the app's name. */
export function replicaName(app: string, i: number): string {
  return i === 1 ? app : `${app}-${i}`;
}

/** Every app process of the run, in app order, replicas after their first. */
export function replicaNames(counts: ReplicaCounts): string[] {
  return APP_NAMES.flatMap((app) => Array.from({ length: counts[app] ?? 1 }, (_, i) => replicaName(app, i + 1)));
}

/** The apps running more than one replica: the ones the replica scenarios act on. */
export function replicatedApps(counts: ReplicaCounts): string[] {
  return APP_NAMES.filter((app) => (counts[app] ?? 1) > 1);
}

/** `app=n, ...` for reports and the repeat command. */
export function formatReplicas(counts: ReplicaCounts): string {
  return APP_NAMES.map((app) => `${app}=${counts[app] ?? 1}`).join(',');
}
