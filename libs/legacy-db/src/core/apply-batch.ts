import type { TableConfig } from '@sync/config';
import type { Row } from './capture-source.interface';
import { planByPolicy, resultRecord, splitByInbox, type PendingCommand } from './sink-results';
import { foldRun, keyString, moveSegments, originRuns, type FoldedRun, type InboxRow, type KeyedCommand } from './writeback-plan';
import type { LegacyVersion, SinkCommand, SinkResult } from './writeback-sink.interface';

/** A command with a key to write (given, or generated before the writes). */
export type KeyedPending = KeyedCommand & PendingCommand;

/**
 * What a dialect supplies to the one write-back algorithm (applyBatchInTransaction). Every call
 * runs inside the batch's transaction; statements are the dialect's, the order is core's.
 */
export interface BatchStatements {
  /**
   * Inbox records of these command ids. A dialect that records first and redoes the batch on a
   * duplicate (PostgreSQL's fast path) answers with an empty map on the first attempt.
   */
  recorded(commandIds: readonly string[]): Promise<Map<string, { outcome: string; result: string | null }>>;
  /** Which of these keys have a row, as keyString ids; those rows are locked until commit. */
  lockExisting(keys: readonly Row[]): Promise<Set<string>>;
  /** The later legacy change of each command's row, by command index (commands with `basedOn` only). */
  conflicts(keyed: readonly PendingCommand[]): Promise<Map<number, LegacyVersion>>;
  /**
   * Generated keys: `before` — the dialect reserves keys for these inserts first (sets each
   * `generatedKey`), and they are written with the keyed rows; `after` — it inserts them itself
   * after the keyed rows (insertGenerated), learning the keys then.
   */
  readonly generatedKeys: 'before' | 'after';
  reserveKeys?(inserts: readonly PendingCommand[]): Promise<void>;
  insertGenerated?(inserts: readonly PendingCommand[]): Promise<void>;
  /** The inbox rows go in before the rows (`before`) or after them (`after`). */
  readonly inbox: 'before' | 'after';
  recordInbox(rows: readonly InboxRow[]): Promise<void>;
  /** Refuses the batch before anything is written (SQL Server's explicit identity values). */
  check?(runs: readonly KeyedPending[][], existing: ReadonlySet<string>): void;
  /** Sets the origin marker the capture reads (echo suppression) for the statements that follow. */
  setOrigin(origin: string): Promise<void>;
  /** Moves a row to `command.newKey` (docs/primary-key-updates.md); keeps `existing` true. */
  moveRow(item: KeyedCommand, existing: Set<string>): Promise<void>;
  /** Writes one folded run (deletes, then upserts by column set); keeps `existing` true. */
  writeRun(folded: FoldedRun, existing: Set<string>): Promise<void>;
}

/**
 * The write-back of one batch of one table, in one transaction, for every dialect: the inbox
 * splits redeliveries off; the rows are locked; each entity's conflict policy decides over later
 * legacy edits; generated keys are reserved or inserted; the commands are written in order, run
 * by run of one origin (each run folded to one statement per kind; key moves in between, in
 * order); the inbox records every command with its outcome.
 */
export async function applyBatchInTransaction(table: TableConfig, commands: readonly SinkCommand[], s: BatchStatements): Promise<SinkResult[]> {
  const { results, pending } = splitByInbox(commands, await s.recorded([...new Set(commands.map((c) => c.commandId))]));

  const keyed = pending.filter((p) => Object.keys(p.command.key).length > 0);
  const existing = await s.lockExisting([...new Map(keyed.map((p) => [keyString(table, p.command.key), p.command.key])).values()]);

  // A key move is not checked: the key map has moved the row already (docs/primary-key-updates.md).
  const legacy = await s.conflicts(keyed.filter((p) => p.command.basedOn !== undefined && /^\d+$/.test(p.command.basedOn) && p.command.newKey === undefined));
  const { toApply, needKeys } = planByPolicy(pending, legacy, table.conflictPolicy);
  if (s.generatedKeys === 'before' && needKeys.length > 0) {
    await s.reserveKeys!(needKeys);
    for (const p of needKeys) toApply.push({ ...p, key: p.generatedKey! });
    toApply.sort((a, b) => a.index - b.index);
  }

  const runs = originRuns<KeyedPending>(toApply);
  s.check?.(runs, existing);
  if (s.inbox === 'before') await s.recordInbox(pending.map((p) => resultRecord(p)));
  for (const run of runs) {
    await s.setOrigin(run[0]!.command.origin);
    for (const segment of moveSegments(run)) {
      if (segment.move) await s.moveRow(segment.move, existing);
      else await s.writeRun(foldRun(table, segment.items), existing);
    }
  }
  if (s.generatedKeys === 'after' && needKeys.length > 0) {
    for (const run of originRuns(needKeys)) {
      await s.setOrigin(run[0]!.command.origin);
      await s.insertGenerated!(run);
    }
  }
  if (s.inbox === 'after') await s.recordInbox(pending.map((p) => resultRecord(p)));

  for (const p of pending) {
    results[p.index] = {
      commandId: p.command.commandId,
      outcome: p.conflict?.resolution === 'skipped' ? 'skipped-conflict' : 'applied',
      ...(p.generatedKey ? { key: p.generatedKey } : {}),
      ...(p.conflict ? { conflict: p.conflict } : {}),
    };
  }
  return results as SinkResult[];
}
