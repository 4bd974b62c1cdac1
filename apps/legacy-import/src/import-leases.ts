import { createHash } from 'node:crypto';

/**
 * Pure rules of legacy-import's work units (docs/legacy-import.md "Replicas"): a unit is
 * one entity; partition i of the lease topic leases the i-th entity in sorted order; each
 * takeover gets a new epoch and only the current epoch may publish or save a state.
 */

/** Thrown by a unit's ports once it is fenced: another replica took the unit over. */
export class LeaseLostError extends Error {
  constructor(readonly entity: string, readonly epoch: number, readonly current: number | undefined) {
    super(`${entity}: lease lost (this replica holds epoch ${epoch}, the unit is at ${current ?? 'no epoch'})`);
    this.name = 'LeaseLostError';
  }
}

export function isLeaseLost(err: unknown): err is LeaseLostError {
  return err instanceof LeaseLostError;
}

/** The work units in partition order: every replica of one pipeline computes the same list. */
export function workUnits(entities: Iterable<string>): string[] {
  return [...new Set(entities)].sort();
}

/**
 * The lease a table is captured under: its own entity name, except in logical mode, where every
 * table of a system shares the system's one replication slot (one connection at a time) and so one
 * lease: `<system>:logical`.
 */
export function leaseKeyOf(system: string, entity: string, captureMode: string): string {
  return captureMode === 'logical' ? `${system}:logical` : entity;
}

/** The units leased by these partitions; partitions past the last unit (tables removed) lease nothing. */
export function unitsOfPartitions(units: readonly string[], partitions: readonly number[]): string[] {
  return partitions.filter((p) => Number.isInteger(p) && p >= 0 && p < units.length).map((p) => units[p]!);
}

const MAX_NAME = 200;

/**
 * The default lease topic (and group) of a pipeline: `sync.import-leases.<systems>`, so two
 * pipelines on one cluster never share leases. Long names end in a hash to stay a legal name.
 */
export function defaultLeaseTopic(systems: Iterable<string>): string {
  const name = `sync.import-leases.${[...new Set(systems)].sort().join('.')}`.replace(/[^A-Za-z0-9._-]/g, '_');
  if (name.length <= MAX_NAME) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return `${name.slice(0, MAX_NAME - 17)}.${hash}`;
}

/** Whether a unit held at `mine` may still act, given the epoch the store has now. */
export function holdsEpoch(mine: number, stored: number | undefined): boolean {
  return stored === mine;
}

/** The heartbeat interval for a session timeout: a third of it, as Kafka recommends, at most 3 s. */
export function heartbeatInterval(sessionTimeoutMs: number): number {
  return Math.max(500, Math.min(3_000, Math.floor(sessionTimeoutMs / 3)));
}
