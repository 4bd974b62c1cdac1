/** The table, in a system's sync schema, that fences legacy-import replicas: one row per work unit (entity). */
export const IMPORT_LEASE_TABLE = 'import_lease';

/** What a takeover returns: the unit's new epoch and the capture state its previous owner saved last. */
export interface LeaseTakeover {
  readonly epoch: number;
  /** Encoded capture state (the watermark); null until an owner saved one. */
  readonly state: string | null;
}

/**
 * Per-unit epochs and capture states of legacy-import (docs/legacy-import.md "Replicas").
 * A takeover increments the epoch; a state is saved only under the current epoch, so a replica
 * that lost the unit (a zombie) can no longer move the watermark: its save answers false.
 */
export interface ImportLeaseStore {
  /** Creates the lease table if it is missing (the same statement `sync-ctl schema` prints). */
  ensureTable(): Promise<void>;
  /** Epoch + 1 (1 for a unit never owned) and the last saved state, in one statement. */
  takeOver(entity: string, owner: string): Promise<LeaseTakeover>;
  /** The unit's current epoch; undefined when it was never taken over. */
  currentEpoch(entity: string): Promise<number | undefined>;
  /** Saves the state if `epoch` is still the unit's epoch; false when it is not (fenced). */
  saveState(entity: string, epoch: number, state: string): Promise<boolean>;
}
