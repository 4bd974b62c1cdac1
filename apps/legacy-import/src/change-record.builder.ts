import type { TableConfig } from '@sync/config';
import { Headers, legacyOrigin, RekeyHeaders, Topics, type ChangeEvent, type Row } from '@sync/contracts';
import type { CapturedChange } from '@sync/legacy-db';
import { DataError } from '@sync/errors';
import type { OutboundRecord } from '@sync/kafka';

/** Message key: the primary-key columns, in key order, as a JSON object. */
export function keyOf(table: TableConfig, row: Row): Row {
  const key: Row = {};
  for (const column of table.key) key[column] = row[column] ?? null;
  return key;
}

function record(table: TableConfig, event: ChangeEvent, eventId: string, keyRow: Row, extraHeaders: Record<string, string> = {}): OutboundRecord {
  const origin = legacyOrigin(table.system);
  return {
    topic: Topics.legacy({ system: table.system, schema: table.schema, table: table.name }),
    key: JSON.stringify(keyRow),
    value: encode(event, eventId),
    // A captured legacy change starts a causation chain: it is its own cause.
    headers: { [Headers.eventId]: eventId, [Headers.origin]: origin, [Headers.causationId]: eventId, ...extraHeaders },
  };
}

function encode(event: ChangeEvent, eventId: string): string {
  try {
    return JSON.stringify(event);
  } catch (err) {
    // A value JSON cannot hold (a BigInt a normaliser let through ...): this change can never be sent.
    throw new DataError(`${eventId}: the change cannot be encoded as JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Deterministic event id: the same change read twice (after a crash) gets the same id. */
export function changeEventId(table: TableConfig, changeId: string): string {
  return `${table.system}.${table.schema}.${table.name}:${changeId}`;
}

/** The old and new key of an update that changed the primary key; undefined for any other change. */
export function keyMove(table: TableConfig, change: CapturedChange): { readonly from: Row; readonly to: Row } | undefined {
  if (change.op !== 'u' || change.before === null || change.after === null) return undefined;
  const from = keyOf(table, change.before);
  const to = keyOf(table, change.after);
  return JSON.stringify(from) === JSON.stringify(to) ? undefined : { from, to };
}

function changeEvent(table: TableConfig, change: CapturedChange, now: number, op: ChangeEvent['op'], before: Row | null, after: Row | null): ChangeEvent {
  return {
    before,
    after,
    op,
    ts_ms: now,
    source: {
      system: table.system,
      schema: table.schema,
      table: table.name,
      position: change.changeId,
      committedAt: change.committedAt,
      txId: change.txId,
    },
  };
}

/**
 * The records of one captured change. An update that changed the primary key becomes two, as
 * Debezium publishes it: a delete under the old key (header __debezium.newkey) and then a create
 * under the new key (header __debezium.oldkey), so each key's partition sees its own end of the
 * move in order. docs/primary-key-updates.md says what id-translation makes of the pair.
 */
export function changeRecords(table: TableConfig, change: CapturedChange, now: number): OutboundRecord[] {
  const move = keyMove(table, change);
  const eventId = changeEventId(table, change.changeId);
  if (!move) {
    const image = change.after ?? change.before ?? {};
    return [record(table, changeEvent(table, change, now, change.op, change.before, change.after), eventId, keyOf(table, image))];
  }
  return [
    record(table, changeEvent(table, change, now, 'd', change.before, null), `${eventId}:old-key`, move.from, { [RekeyHeaders.newKey]: JSON.stringify(move.to) }),
    record(table, changeEvent(table, change, now, 'c', null, change.after), eventId, move.to, { [RekeyHeaders.oldKey]: JSON.stringify(move.from) }),
  ];
}

export function snapshotRecord(table: TableConfig, snapshotId: string, row: Row, now: number): OutboundRecord {
  const key = keyOf(table, row);
  const position = `snapshot:${snapshotId}:${JSON.stringify(key)}`;
  const event: ChangeEvent = {
    before: null,
    after: row,
    op: 'r',
    ts_ms: now,
    source: { system: table.system, schema: table.schema, table: table.name, position, committedAt: new Date(now).toISOString(), txId: null },
  };
  return record(table, event, changeEventId(table, position), key);
}
