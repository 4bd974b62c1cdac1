import type { ConflictPolicy, TableConfig } from '@sync/config';
import type { Row } from './capture-source.interface';
import { SinkError } from './sink-error';
import type { LegacyVersion, SinkCommand } from './writeback-sink.interface';

/** A command with its legacy key known (given, or allocated for a generated-key insert). */
export interface KeyedCommand {
  readonly command: SinkCommand;
  readonly key: Row;
}

/** Comparable identity of a key: values as text, in key order (the database returns them as text too). */
export function keyString(table: TableConfig, key: Row): string {
  if (table.key.length === 1) {
    // Called several times per command: the common single-column key skips JSON.stringify when
    // the value needs no JSON escaping (same text).
    const v = key[table.key[0]!];
    if (typeof v === 'number' || (typeof v === 'string' && JSON_PLAIN.test(v))) return `["${v}"]`;
    return JSON.stringify([v === null || v === undefined ? null : String(v)]);
  }
  return JSON.stringify(table.key.map((k) => (key[k] === null || key[k] === undefined ? null : String(key[k]))));
}

const JSON_PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** Checks a command against the table's configuration before anything touches the database. */
export function validateCommand(table: TableConfig, c: SinkCommand): void {
  const keyNames = Object.keys(c.key);
  const ref = `${table.system}.${table.schema}.${table.name}`;
  if (keyNames.length === 0) {
    if (c.op === 'delete') throw new SinkError('data', `command ${c.commandId}: a delete needs the legacy key`);
    if (!table.generatedKey) throw new SinkError('data', `command ${c.commandId}: ${ref} does not generate its key (generatedKey: false), so the command needs one`);
  } else {
    const missing = table.key.filter((k) => !(k in c.key) || c.key[k] === null || c.key[k] === undefined);
    const extra = keyNames.filter((k) => !table.key.includes(k));
    if (missing.length > 0 || extra.length > 0) {
      throw new SinkError('data', `command ${c.commandId}: key of ${ref} must be exactly (${table.key.join(', ')}), got (${keyNames.join(', ')})`);
    }
  }
  if (c.newKey !== undefined) {
    const names = Object.keys(c.newKey);
    if (c.op !== 'upsert' || keyNames.length === 0) throw new SinkError('data', `command ${c.commandId}: only an upsert of a row with a key can move it to a new key`);
    if (names.length !== table.key.length || table.key.some((k) => c.newKey![k] === null || c.newKey![k] === undefined)) {
      throw new SinkError('data', `command ${c.commandId}: new key of ${ref} must be exactly (${table.key.join(', ')}), got (${names.join(', ')})`);
    }
  }
  if (table.columns) {
    const unknown = Object.keys(c.columns).filter((col) => !table.columns!.includes(col) && !table.key.includes(col));
    if (unknown.length > 0) throw new SinkError('data', `command ${c.commandId}: columns not synced for ${ref}: ${unknown.join(', ')}`);
  }
}

/**
 * Whether a command that conflicts with a later legacy change is written. `last-writer-wins`
 * compares the legacy change time (the trigger's clock) with the command's `occurredAt`; a tie
 * keeps the legacy value.
 */
export function resolveConflict(policy: ConflictPolicy, command: SinkCommand, legacy: LegacyVersion): 'applied' | 'skipped' {
  switch (policy) {
    case 'legacy-wins':
      return 'skipped';
    case 'new-wins':
      return 'applied';
    case 'last-writer-wins':
      return Date.parse(command.occurredAt) > Date.parse(legacy.changedAt) ? 'applied' : 'skipped';
    default: {
      const never: never = policy;
      throw new Error(`unknown conflict policy ${String(never)}`);
    }
  }
}

/** Consecutive commands with the same origin: each run is written under one origin marker. */
export function originRuns<T extends { readonly command: SinkCommand }>(items: readonly T[]): T[][] {
  const runs: T[][] = [];
  for (const item of items) {
    const last = runs[runs.length - 1];
    if (last && last[0]!.command.origin === item.command.origin) last.push(item);
    else runs.push([item]);
  }
  return runs;
}

/**
 * Splits a run at the commands that move a row to a new key: each such command is a segment of
 * its own, executed between the commands before and after it (which name the row by its old and
 * its new key). Its columns are written to the moved row as the first command of the next segment.
 */
export function moveSegments<T extends KeyedCommand>(items: readonly T[]): Array<{ readonly move?: T; readonly items: T[] }> {
  const segments: Array<{ move?: T; items: T[] }> = [{ items: [] }];
  for (const item of items) {
    if (item.command.newKey === undefined) {
      segments[segments.length - 1]!.items.push(item);
      continue;
    }
    const { newKey, ...rest } = item.command;
    segments.push({ move: item, items: [] }, { items: [{ ...item, command: rest, key: newKey }] });
  }
  return segments.filter((s) => s.move !== undefined || s.items.length > 0);
}

/** One row of a multi-row upsert: its key and the columns to write. */
export interface UpsertRow {
  readonly key: Row;
  readonly columns: Row;
}

/** What the inbox records of one command (written in the same transaction as its rows). */
export interface InboxRow {
  readonly commandId: string;
  readonly globalId: string;
  readonly origin: string;
  readonly outcome: 'applied' | 'skipped-conflict';
  readonly result: unknown;
}

export interface FoldedUpsert {
  readonly key: Row;
  readonly columns: Row;
  /** A delete of the same key came first in the run: the row must be inserted afresh. */
  readonly afterDelete: boolean;
}

export interface FoldedRun {
  /** Keys to delete, executed before the upserts. */
  readonly deletes: Row[];
  readonly upserts: FoldedUpsert[];
}

/**
 * Folds a run to at most one delete and one upsert per key, keeping the run's effect: later
 * columns override earlier ones, a delete drops earlier upserts, an upsert after a delete
 * re-inserts. Multi-row statements may not touch a row twice, hence the folding.
 */
export function foldRun(table: TableConfig, items: readonly KeyedCommand[]): FoldedRun {
  const state = new Map<string, { key: Row; deleted: boolean; columns: Row | undefined }>();
  for (const { command, key } of items) {
    const id = keyString(table, key);
    const current = state.get(id) ?? { key, deleted: false, columns: undefined };
    if (command.op === 'delete') {
      current.deleted = true;
      current.columns = undefined;
    } else {
      // The first upsert's columns are used as they are (never mutated); later ones merge into a copy.
      current.columns = current.columns === undefined ? command.columns : { ...current.columns, ...command.columns };
    }
    state.set(id, current);
  }
  const deletes: Row[] = [];
  const upserts: FoldedUpsert[] = [];
  for (const s of state.values()) {
    if (s.deleted) deletes.push(s.key);
    if (s.columns !== undefined) upserts.push({ key: s.key, columns: s.columns, afterDelete: s.deleted });
  }
  return { deletes, upserts };
}

/** Groups upserts by their set of written columns (a multi-row statement has one column list). */
export function byColumnSet(table: TableConfig, upserts: readonly FoldedUpsert[]): Array<{ columns: string[]; rows: FoldedUpsert[] }> {
  const groups = new Map<string, { columns: string[]; rows: FoldedUpsert[] }>();
  // Rows of one batch mostly list their columns in the same order: sort and filter once per order.
  const byOrder = new Map<string, { columns: string[]; rows: FoldedUpsert[] }>();
  for (const u of upserts) {
    const order = Object.keys(u.columns).join('\u0000');
    let group = byOrder.get(order);
    if (!group) {
      const columns = Object.keys(u.columns)
        .filter((c) => !table.key.includes(c))
        .sort();
      const id = columns.join('\u0000');
      group = groups.get(id) ?? { columns, rows: [] };
      groups.set(id, group);
      byOrder.set(order, group);
    }
    group.rows.push(u);
  }
  return [...groups.values()];
}

/** Splits rows so a statement stays under the driver's parameter limit. */
export function chunk<T>(rows: readonly T[], paramsPerRow: number, maxParams: number): T[][] {
  const size = Math.max(1, Math.floor(maxParams / Math.max(1, paramsPerRow)));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** A generated key value as JSON: a bigint that fits in a JS number becomes a number. */
export function keyValue(text: string): string | number {
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n;
  }
  return text;
}
