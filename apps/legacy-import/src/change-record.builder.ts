import type { TableConfig } from '@sync/config';
import { Headers, legacyOrigin, Topics, type ChangeEvent, type Row } from '@sync/contracts';
import type { CapturedChange } from '@sync/legacy-db';
import { DataError } from '@sync/errors';
import type { OutboundRecord } from '@sync/kafka';

/** Message key: the primary-key columns, in key order, as a JSON object. */
export function keyOf(table: TableConfig, row: Row): Row {
  const key: Row = {};
  for (const column of table.key) key[column] = row[column] ?? null;
  return key;
}

function record(table: TableConfig, event: ChangeEvent, eventId: string, keyRow: Row): OutboundRecord {
  const origin = legacyOrigin(table.system);
  return {
    topic: Topics.legacy({ system: table.system, schema: table.schema, table: table.name }),
    key: JSON.stringify(keyRow),
    value: encode(event, eventId),
    // A captured legacy change starts a causation chain: it is its own cause.
    headers: { [Headers.eventId]: eventId, [Headers.origin]: origin, [Headers.causationId]: eventId },
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

export function changeRecord(table: TableConfig, change: CapturedChange, now: number): OutboundRecord {
  const event: ChangeEvent = {
    before: change.before,
    after: change.after,
    op: change.op,
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
  const image = change.after ?? change.before ?? {};
  return record(table, event, changeEventId(table, change.changeId), keyOf(table, image));
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
