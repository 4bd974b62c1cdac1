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

/** One snapshot row's record, with what a dead letter needs should it be refused. */
export interface SnapshotRecord {
  readonly record: OutboundRecord;
  /** The row's position in this snapshot (`snapshot:<id>:<key JSON>`), also the change id. */
  readonly position: string;
  readonly key: Row;
}

/**
 * Encodes the rows of one snapshot chunk read at `now`: the same bytes as snapshotRecord gives for
 * each row, but what every row shares (topic, origin, the envelope around the row, the commit time)
 * is built once per chunk, and each row costs one JSON.stringify of its key, of itself and of its
 * position. A row JSON cannot hold is a DataError naming its event id.
 */
export function snapshotRecords(table: TableConfig, snapshotId: string, rows: readonly Row[], now: number): SnapshotRecord[] {
  const topic = Topics.legacy({ system: table.system, schema: table.schema, table: table.name });
  const origin = legacyOrigin(table.system);
  const positionPrefix = `snapshot:${snapshotId}:`;
  const eventIdPrefix = changeEventId(table, '');
  // JSON.stringify(event) of snapshotRecord's event, with the row and the position left out.
  const head = '{"before":null,"after":';
  const middle = `,"op":"r","ts_ms":${JSON.stringify(now)},"source":{"system":${JSON.stringify(table.system)},"schema":${JSON.stringify(table.schema)},"table":${JSON.stringify(table.name)},"position":`;
  const tail = `,"committedAt":${JSON.stringify(new Date(now).toISOString())},"txId":null}}`;
  const out: SnapshotRecord[] = new Array<SnapshotRecord>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const key = keyOf(table, row);
    const keyText = JSON.stringify(key);
    const position = positionPrefix + keyText;
    const eventId = eventIdPrefix + position;
    let rowText: string;
    try {
      rowText = JSON.stringify(row);
    } catch (err) {
      throw new DataError(`${eventId}: the change cannot be encoded as JSON: ${(err as Error).message}`, { cause: err });
    }
    out[i] = {
      record: {
        topic,
        key: keyText,
        value: head + rowText + middle + JSON.stringify(position) + tail,
        headers: { [Headers.eventId]: eventId, [Headers.origin]: origin, [Headers.causationId]: eventId },
      },
      position,
      key,
    };
  }
  return out;
}
