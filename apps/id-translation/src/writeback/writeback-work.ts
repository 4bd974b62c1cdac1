import type { OutboundRecord } from '@sync/kafka';
import type { LocalKeyRef, NewEntry, NewParkedCommand, RowKey } from '@sync/keymap';

/** What resolving a list of items produced, to be written and sent in the same transaction. */
export interface Work {
  readonly records: OutboundRecord[];
  readonly entries: NewEntry[];
  readonly pending: Array<RowKey & { commandId: string }>;
  readonly parks: NewParkedCommand[];
  readonly released: string[];
  readonly parkUpdates: Array<{ id: string; waitingOn: readonly string[]; reason: string }>;
  /** Global ids that got a legacy key here: parked commands waiting on them may go now. */
  readonly keyed: string[];
  /** Rows the new side gave another legacy primary key. */
  readonly moves: Array<{ readonly row: RowKey; readonly to: LocalKeyRef }>;
  skipped: number;
}

export function emptyWork(): Work {
  return { records: [], entries: [], pending: [], parks: [], released: [], parkUpdates: [], keyed: [], moves: [], skipped: 0 };
}
