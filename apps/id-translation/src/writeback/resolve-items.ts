import { Topics, type Row } from '@sync/contracts';
import { canonicalKey, resolveRequest, rowKeyId, type Resolution, type RowKey } from '@sync/keymap';
import { passHeaders } from '../legacy.translator';
import type { KeymapSession } from './keymap-session';
import { rowKeyOf, type Item } from './writeback-item';
import type { Work } from './writeback-work';

type Park = Extract<Resolution, { kind: 'park' }>;
type Command = Extract<Resolution, { kind: 'command' }>;

/** Resolves items in order (new messages, or parked commands being retried) into `work`. */
export async function resolveItems(items: readonly Item[], session: KeymapSession, work: Work): Promise<void> {
  // Commands still to come per table: an allocating table reserves that many keys at once.
  const perTable = new Map<string, number>();
  for (const item of items) perTable.set(tableIdOf(item), (perTable.get(tableIdOf(item)) ?? 0) + 1);
  for (const item of items) {
    const resolution = resolveRequest(item.request, item.table, session);
    switch (resolution.kind) {
      case 'park':
        park(item, resolution, session, work);
        break;
      case 'skip':
        work.skipped++;
        if (item.parked) work.released.push(item.parked.id);
        break;
      case 'command': {
        await command(item, resolution, session, work, perTable.get(tableIdOf(item)) ?? 1);
        perTable.set(tableIdOf(item), Math.max(0, (perTable.get(tableIdOf(item)) ?? 1) - 1));
        break;
      }
      default: {
        const never: never = resolution;
        throw new Error(`unexpected resolution ${String(never)}`);
      }
    }
  }
}

function tableIdOf(item: Item): string {
  return item.table.tableRef + item.request.system;
}

/** Parks a new request, or updates a parked one whose wait changed. */
function park(item: Item, resolution: Park, session: KeymapSession, work: Work): void {
  const rowKey = rowKeyOf(item.request, item.table);
  session.parked.add(rowKeyId(rowKey));
  if (item.parked) {
    const same = item.parked.reason === resolution.reason && item.parked.waitingOn.join() === resolution.waitingOn.join();
    if (!same) work.parkUpdates.push({ id: item.parked.id, waitingOn: resolution.waitingOn, reason: resolution.reason });
    return;
  }
  work.parks.push({
    commandId: item.request.commandId,
    ...rowKey,
    waitingOn: resolution.waitingOn,
    reason: resolution.reason,
    sourceTopic: item.source.topic,
    sourcePartition: item.source.partition,
    sourceOffset: item.source.offset,
    messageKey: item.source.key,
    messageValue: item.source.value,
    headers: item.source.headers,
  });
}

/** Records the key an insert gets (or will get), any key move, and the resolved command to send. */
async function command(item: Item, resolution: Command, session: KeymapSession, work: Work, expectedInTable: number): Promise<void> {
  const { request, table } = item;
  const rowKey = rowKeyOf(request, table);
  let command = resolution.command;
  switch (resolution.insert) {
    case undefined:
      break;
    case 'generated':
      work.pending.push({ ...rowKey, commandId: request.commandId });
      session.set(rowKey, { kind: 'pending', insertedBy: request.commandId });
      break;
    case 'allocate': {
      const keyColumn = table.config.key[0]!;
      const key: Row = { [keyColumn]: await session.allocate(table, expectedInTable) };
      command = { ...command, key };
      recordKey(work, session, item, key, 'allocated');
      break;
    }
    case 'own-key':
      recordKey(work, session, item, command.key, 'request');
      break;
    default: {
      const never: never = resolution.insert;
      throw new Error(`unexpected insert mode ${String(never)}`);
    }
  }
  if (command.newKey) moveKey(work, session, item, rowKey, command.newKey);
  work.records.push({
    topic: Topics.resolved({ system: request.system, schema: request.schema, table: request.table }),
    key: request.globalId,
    value: JSON.stringify(command),
    headers: passHeaders(item.source.headers),
  });
  if (item.parked) work.released.push(item.parked.id);
}

function recordKey(work: Work, session: KeymapSession, item: Item, key: Row, origin: 'allocated' | 'request'): void {
  const { request, table } = item;
  const localKey = canonicalKey(table.config.key, key)!;
  work.entries.push({ ref: { system: request.system, tableRef: table.tableRef, localKey, keyValues: key }, globalId: request.globalId, origin });
  session.set(rowKeyOf(request, table), { kind: 'known', key, insertedBy: request.commandId });
  work.keyed.push(request.globalId);
}

/** Later commands of this batch, and of the row's children, name the row by its new key. */
function moveKey(work: Work, session: KeymapSession, item: Item, rowKey: RowKey, newKey: Row): void {
  const { request, table } = item;
  const localKey = canonicalKey(table.config.key, newKey)!;
  work.moves.push({ row: rowKey, to: { system: request.system, tableRef: table.tableRef, localKey, keyValues: newKey } });
  session.set(rowKey, { kind: 'known', key: newKey });
}
