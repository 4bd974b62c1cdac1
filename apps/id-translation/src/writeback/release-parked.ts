import { rowKeyId, type KeymapTransaction, type RowKey, type TableIndex } from '@sync/keymap';
import type { TranslationMetrics } from '../translation-metrics';
import type { KeymapSession } from './keymap-session';
import { resolveItems } from './resolve-items';
import { storeDecisions } from './store-decisions';
import { dedupe, itemFromParked, keysOf, rowKeyOf } from './writeback-item';
import type { Work } from './writeback-work';

/**
 * Stores what the batch decided, then releases parked commands whose keys are now known (in
 * arrival order per row, repeatedly, since a released insert can unblock others). `recheck`
 * names rows whose parked commands are re-resolved even if no new key arrived for them.
 */
export async function storeAndRelease(
  tx: KeymapTransaction,
  session: KeymapSession,
  work: Work,
  index: TableIndex,
  recheck: readonly RowKey[],
  metrics?: TranslationMetrics,
): Promise<void> {
  await storeDecisions(tx, work, { entries: 0, pending: 0 }, metrics);
  let keyedFrom = 0;
  let rows: RowKey[] = [...recheck];
  for (;;) {
    const from = { entries: work.entries.length, pending: work.pending.length };
    const fresh = work.keyed.slice(keyedFrom);
    keyedFrom = work.keyed.length;
    rows = dedupe([...rows, ...(await tx.rowsWaitingOn(fresh))]);
    if (rows.length === 0) break;
    const items = (await tx.parkedFor(rows)).map((p) => itemFromParked(p, index));
    rows = [];
    // Within a release, only commands still parked in it hold back the ones behind them.
    for (const item of items) session.parked.delete(rowKeyId(rowKeyOf(item.request, item.table)));
    await session.load(items.flatMap(keysOf), false);
    const releasedBefore = work.released.length;
    await resolveItems(items, session, work);
    await storeDecisions(tx, work, from, metrics);
    if (work.released.length === releasedBefore && work.keyed.length === keyedFrom) break;
  }
  for (const update of work.parkUpdates) await tx.updateParked(update.id, update.waitingOn, update.reason);
  await tx.deleteParked(work.released);
}
