import { createHash } from 'node:crypto';
import type { TableConfig } from '@sync/config';
import { ChangeHeaders, Headers, legacyOrigin, Topics, type ChangeEvent, type DebeziumEnvelopeEncoder, type Row } from '@sync/contracts';
import type { OutboundRecord } from '@sync/kafka';
import type { ReportedDifference } from './verify.service';

export interface RepairPlan {
  readonly records: OutboundRecord[];
  /** Rows re-emitted as snapshot reads (op "r"). */
  readonly reemitted: number;
  /** Rows gone from the legacy table but known to the key map: re-emitted as deletes. */
  readonly deletes: number;
  /** Global ids only the new side has and the key map cannot name: the new service must publish them again. */
  readonly notRepairable: readonly string[];
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

function keyOf(table: TableConfig, image: Row): Row {
  return Object.fromEntries(table.key.map((c) => [c, image[c] ?? null]));
}

/**
 * The legacy.* records that make the normal pipeline carry the differing rows again: the current
 * legacy row as a snapshot read (op "r"), or a delete when the row is gone from the legacy table
 * but the key map still names it. Event ids are derived from the row's content, so running the
 * same repair twice produces the same ids (consumers recognise the duplicate).
 */
/** Writes one repair event as legacy.* records in the pipeline's technical-topic format. */
export type RepairEncoding = (topic: string, key: Row, event: ChangeEvent, headers: Record<string, string>) => OutboundRecord[];

/** The native envelope (technicalTopics.format: native). */
export const nativeRepairEncoding: RepairEncoding = (topic, key, event, headers) => [{ topic, key: JSON.stringify(key), value: JSON.stringify(event), headers }];

/**
 * Debezium's envelope (technicalTopics.format: debezium), as legacy-import writes it: the native
 * source fields in headers, a tombstone after a delete when the pipeline asks for them.
 */
export function debeziumRepairEncoding(encoder: DebeziumEnvelopeEncoder): RepairEncoding {
  return (topic, key, event, headers) => {
    const all: Record<string, string> = {
      ...headers,
      [ChangeHeaders.position]: event.source.position,
      [ChangeHeaders.committedAt]: event.source.committedAt,
      ...(encoder.columnsHeader !== undefined && { [ChangeHeaders.columns]: encoder.columnsHeader }),
    };
    const keyText = encoder.key(key);
    const value = encoder.value({ op: event.op, before: event.before, after: event.after, position: event.source.position, committedAt: event.source.committedAt, txId: null }, event.ts_ms);
    const records: OutboundRecord[] = [{ topic, key: keyText, value, headers: all }];
    if (event.op === 'd' && encoder.options.tombstonesOnDelete) {
      const id = `${headers[Headers.eventId] ?? ''}:tombstone`;
      records.push({ topic, key: keyText, value: null, headers: { ...all, [Headers.eventId]: id, [Headers.causationId]: id } });
    }
    return records;
  };
}

export function repairRecords(table: TableConfig, differences: readonly ReportedDifference[], now = Date.now(), encoding: RepairEncoding = nativeRepairEncoding): RepairPlan {
  const entity = `${table.system}.${table.schema}.${table.name}`;
  const topic = Topics.legacy({ system: table.system, schema: table.schema, table: table.name });
  const origin = legacyOrigin(table.system);
  const records: OutboundRecord[] = [];
  const notRepairable: string[] = [];
  let reemitted = 0;
  let deletes = 0;
  for (const d of differences) {
    let event: ChangeEvent;
    let key: Row;
    if (d.legacyRow !== null) {
      key = keyOf(table, d.legacyRow);
      const position = `verify:${hash(JSON.stringify([key, d.legacyRow]))}`;
      event = { op: 'r', before: null, after: d.legacyRow, ts_ms: now, source: { system: table.system, schema: table.schema, table: table.name, position, committedAt: new Date(now).toISOString(), txId: null } };
      reemitted++;
    } else if (d.legacyKey !== null) {
      key = keyOf(table, d.legacyKey);
      const position = `verify-delete:${hash(JSON.stringify(key))}`;
      event = { op: 'd', before: key, after: null, ts_ms: now, source: { system: table.system, schema: table.schema, table: table.name, position, committedAt: new Date(now).toISOString(), txId: null } };
      deletes++;
    } else {
      notRepairable.push(d.id);
      continue;
    }
    const eventId = `${entity}:${event.source.position}`;
    records.push(...encoding(topic, key, event, { [Headers.eventId]: eventId, [Headers.origin]: origin, [Headers.causationId]: eventId }));
  }
  return { records, reemitted, deletes, notRepairable };
}
