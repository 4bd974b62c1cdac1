import { parseJsonValue, parseWritebackRequest, type WritebackRequest } from '@sync/contracts';
import { rowKeyId, targetTable, type IndexedTable, type ParkedCommand, type RowKey, type TableIndex } from '@sync/keymap';
import type { InboundMessage } from '@sync/kafka';
import { checkEnvelope } from '../legacy.translator';

/** One request and where it came from (a Kafka message, or a parked row). */
export interface Item {
  readonly request: WritebackRequest;
  readonly table: IndexedTable;
  readonly source: { topic: string; partition: number; offset: string; key: string | null; value: string; headers: Record<string, string> };
  readonly parked?: ParkedCommand;
}

export function itemFromMessage(m: InboundMessage, index: TableIndex): Item {
  checkEnvelope(m);
  const request = parseWritebackRequest(parseJsonValue(m.value));
  const value = m.value!.toString('utf8');
  return { request, table: targetTable(request, index), source: { topic: m.topic, partition: m.partition, offset: m.offset, key: m.key?.toString('utf8') ?? null, value, headers: { ...m.headers } } };
}

export function itemFromParked(p: ParkedCommand, index: TableIndex): Item {
  const request = parseWritebackRequest(JSON.parse(p.messageValue));
  return {
    request,
    table: targetTable(request, index),
    source: { topic: p.sourceTopic, partition: p.sourcePartition, offset: p.sourceOffset, key: p.messageKey, value: p.messageValue, headers: p.headers },
    parked: p,
  };
}

export function rowKeyOf(request: WritebackRequest, table: IndexedTable): RowKey {
  return { system: request.system, tableRef: table.tableRef, globalId: request.globalId };
}

/** Every key-map row a request's resolution reads: its own and its foreign-key targets. */
export function keysOf(item: Item): RowKey[] {
  const keys = [rowKeyOf(item.request, item.table)];
  for (const fk of item.table.foreignKeys) {
    const target = item.request.references[fk.name];
    if (typeof target === 'string') keys.push({ system: fk.target.system, tableRef: fk.targetRef, globalId: target });
  }
  return keys;
}

export function dedupe(keys: readonly RowKey[]): RowKey[] {
  const seen = new Map<string, RowKey>();
  for (const key of keys) seen.set(rowKeyId(key), key);
  return [...seen.values()];
}
