import type { Row } from './capture-source.interface';
import type { InboxRow } from './writeback-plan';
import type { ConflictPolicy } from '@sync/config';
import { republishOrigin } from './republish-origin';
import { resolveConflict } from './writeback-plan';
import type { LegacyVersion, SinkCommand, SinkConflict, SinkResult } from './writeback-sink.interface';

/** A command not yet in the inbox, with what this batch decided for it. */
export interface PendingCommand {
  readonly index: number;
  /** Replaced when a conflict is resolved in its favour (its origin becomes the republish marker). */
  command: SinkCommand;
  conflict?: SinkConflict;
  generatedKey?: Row;
}

/** What the inbox records for a command: enough to re-publish its generated key and conflict after a redelivery. */
export function resultRecord(p: PendingCommand): InboxRow {
  return {
    commandId: p.command.commandId,
    globalId: p.command.globalId,
    origin: p.command.origin,
    outcome: p.conflict?.resolution === 'skipped' ? 'skipped-conflict' : 'applied',
    result: p.generatedKey || p.conflict ? { ...(p.generatedKey ? { key: p.generatedKey } : {}), ...(p.conflict ? { conflict: p.conflict } : {}) } : undefined,
  };
}

/** A redelivered command: its recorded outcome, generated key and conflict, as first reported. */
export function recordedResult(commandId: string, outcome: string, result: string | null): SinkResult {
  const parsed = result ? (JSON.parse(result) as { key?: Row; conflict?: SinkConflict }) : {};
  return {
    commandId,
    outcome: 'duplicate',
    recordedOutcome: outcome === 'skipped-conflict' ? 'skipped-conflict' : 'applied',
    ...(parsed.key ? { key: parsed.key } : {}),
    ...(parsed.conflict ? { conflict: parsed.conflict } : {}),
  };
}

/**
 * Splits a batch by the inbox: commands already applied get their recorded result, a command id
 * repeated within the batch is a duplicate, and the rest are pending (to apply now).
 */
export function splitByInbox(
  commands: readonly SinkCommand[],
  recorded: ReadonlyMap<string, { outcome: string; result: string | null }>,
): { results: Array<SinkResult | undefined>; pending: PendingCommand[] } {
  const results: Array<SinkResult | undefined> = new Array(commands.length);
  const pending: PendingCommand[] = [];
  const seen = new Set<string>();
  commands.forEach((command, index) => {
    const hit = recorded.get(command.commandId);
    if (hit) results[index] = recordedResult(command.commandId, hit.outcome, hit.result);
    else if (seen.has(command.commandId)) results[index] = { commandId: command.commandId, outcome: 'duplicate' };
    else {
      seen.add(command.commandId);
      pending.push({ index, command });
    }
  });
  return { results, pending };
}

/**
 * Applies the entity's conflict policy to the pending commands (recording each conflict on the
 * command) and splits what is left: rows with a key to write, and inserts whose key the database
 * generates.
 */
export function planByPolicy(
  pending: readonly PendingCommand[],
  legacy: ReadonlyMap<number, LegacyVersion>,
  policy: ConflictPolicy,
): { toApply: Array<PendingCommand & { key: Row }>; needKeys: PendingCommand[] } {
  const toApply: Array<PendingCommand & { key: Row }> = [];
  const needKeys: PendingCommand[] = [];
  for (const p of pending) {
    const version = legacy.get(p.index);
    if (version) {
      const resolution = resolveConflict(policy, p.command, version);
      p.conflict = { policy, resolution, legacy: version };
      if (resolution === 'skipped') continue;
      p.command = { ...p.command, origin: republishOrigin(p.command.origin) };
    }
    if (Object.keys(p.command.key).length === 0) needKeys.push(p);
    else toApply.push({ ...p, key: p.command.key });
  }
  return { toApply, needKeys };
}
