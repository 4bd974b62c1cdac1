import { ContractError } from '@sync/contracts';
import type { KeymapTransaction } from '@sync/keymap';
import type { TranslationMetrics } from '../translation-metrics';
import type { Work } from './writeback-work';

/** Where the part of `work` not stored yet starts (entries and pending inserts are kept for the release loop). */
export interface StoredUpTo {
  readonly entries: number;
  readonly pending: number;
}

/** Stores key moves, new key-map entries, pending inserts and parks that resolving decided. */
export async function storeDecisions(tx: KeymapTransaction, work: Work, from: StoredUpTo, metrics?: TranslationMetrics): Promise<void> {
  await storeMoves(tx, work.moves.splice(0), metrics);
  const entries = work.entries.slice(from.entries);
  if (entries.length > 0) {
    await tx.insertEntries(entries);
    // A key given by the request may already belong to another row: that request is poison.
    const stored = await tx.findGlobalIds(entries.map((e) => e.ref));
    for (const e of entries) {
      const winner = stored.get(`${e.ref.system}\u0000${e.ref.tableRef}\u0000${e.ref.localKey}`);
      if (winner !== e.globalId) {
        throw new ContractError(`key ${JSON.stringify(e.ref.keyValues)} of ${e.ref.system}.${e.ref.tableRef} already belongs to global id ${winner ?? '(another row)'}, not ${e.globalId}`);
      }
    }
  }
  await tx.recordPending(work.pending.slice(from.pending));
  const parks = work.parks.splice(0);
  metrics?.parkedTotal.inc(parks.length);
  await tx.park(parks);
}

/** Moves rows to the keys the new side gave them; a key that names another row makes the request poison. */
async function storeMoves(tx: KeymapTransaction, moves: Work['moves'], metrics?: TranslationMetrics): Promise<void> {
  if (moves.length === 0) return;
  const owners = await tx.findGlobalIds(moves.map((m) => m.to));
  for (const m of moves) {
    const owner = owners.get(`${m.to.system}\u0000${m.to.tableRef}\u0000${m.to.localKey}`);
    if (owner !== undefined && owner !== m.row.globalId) {
      throw new ContractError(`columns: the new key ${JSON.stringify(m.to.keyValues)} of ${m.to.system}.${m.to.tableRef} already belongs to global id ${owner}, not ${m.row.globalId}`);
    }
  }
  await tx.moveRows(moves);
  metrics?.keyMoves.inc(moves.length);
}
