import { ContractError, parseIdmapLink, parseJsonValue, parseWritebackRequest, Topics, type Row, type WritebackRequest } from '@sync/contracts';
import {
  canonicalKey,
  keyValues,
  LruCache,
  resolveRequest,
  rowKeyId,
  tableRefOf,
  targetTable,
  type IndexedTable,
  type KeymapRepository,
  type KeymapTransaction,
  type LocalKeyRef,
  type NewEntry,
  type NewParkedCommand,
  type ParkedCommand,
  type ResolveView,
  type RowKey,
  type TableIndex,
  type TargetState,
} from '@sync/keymap';
import { deadLetterRecord, type InboundMessage, type LogSink, type OutboundRecord } from '@sync/kafka';
import { errorMessage, EnvironmentError } from '@sync/errors';
import { checkEnvelope, passHeaders } from './legacy.translator';
import { keymapFailure } from './keymap-failure';
import type { TranslationMetrics } from './translation-metrics';

export interface WritebackTranslatorOptions {
  /** Dead letters go to `dlq.<app>`. */
  readonly app: string;
  readonly parkTimeoutMs: number;
  readonly cacheSize: number;
  readonly log: LogSink;
  readonly metrics?: TranslationMetrics;
}

type Send = (records: readonly OutboundRecord[]) => Promise<void>;

/** One request and where it came from (a Kafka message, or a parked row). */
interface Item {
  readonly request: WritebackRequest;
  readonly table: IndexedTable;
  readonly source: { topic: string; partition: number; offset: string; key: string | null; value: string; headers: Record<string, string> };
  readonly parked?: ParkedCommand;
}

function rowKeyOf(request: WritebackRequest, table: IndexedTable): RowKey {
  return { system: request.system, tableRef: table.tableRef, globalId: request.globalId };
}

/** Every key-map row a request's resolution reads: its own and its foreign-key targets. */
function keysOf(item: Item): RowKey[] {
  const keys = [rowKeyOf(item.request, item.table)];
  for (const fk of item.table.foreignKeys) {
    const target = item.request.references[fk.name];
    if (typeof target === 'string') keys.push({ system: fk.target.system, tableRef: fk.targetRef, globalId: target });
  }
  return keys;
}

/** The key-map view of one locked transaction: loaded in bulk, updated as the batch is resolved. */
class Session implements ResolveView {
  readonly states = new Map<string, TargetState>();
  readonly parked = new Set<string>();
  private readonly blocks = new Map<string, { next: number; left: number }>();

  constructor(
    private readonly tx: KeymapTransaction,
    private readonly cache: LruCache<string, TargetState>,
    private readonly metrics?: TranslationMetrics,
  ) {}

  async load(keys: readonly RowKey[], withParked: boolean): Promise<void> {
    const missing: RowKey[] = [];
    const seen = new Set<string>();
    for (const key of keys) {
      const id = rowKeyId(key);
      if (this.states.has(id) || seen.has(id)) continue;
      seen.add(id);
      const hit = this.cache.get(id);
      if (hit) this.states.set(id, hit);
      else missing.push(key);
    }
    this.metrics?.cache.inc({ result: 'hit' }, seen.size - missing.length);
    this.metrics?.cache.inc({ result: 'miss' }, missing.length);
    const found = await this.tx.states(missing);
    for (const key of missing) {
      const id = rowKeyId(key);
      this.states.set(id, found.get(id) ?? { kind: 'unknown' });
    }
    if (withParked) for (const id of await this.tx.parkedRows(keys)) this.parked.add(id);
  }

  state(system: string, tableRef: string, globalId: string): TargetState {
    return this.states.get(rowKeyId({ system, tableRef, globalId })) ?? { kind: 'unknown' };
  }

  parkedAhead(system: string, tableRef: string, globalId: string): boolean {
    return this.parked.has(rowKeyId({ system, tableRef, globalId }));
  }

  set(key: RowKey, state: TargetState): void {
    this.states.set(rowKeyId(key), state);
  }

  /** Next allocated key of a table; reserves `expected` keys at a time (one statement per table and batch). */
  async allocate(table: IndexedTable, expected: number): Promise<number> {
    const id = `${table.config.system}\u0000${table.tableRef}`;
    let block = this.blocks.get(id);
    if (!block || block.left === 0) {
      const count = Math.max(1, expected);
      block = { next: await this.tx.allocate(table.config.system, table.tableRef, table.config.allocateKeysFrom ?? 1, count), left: count };
      this.blocks.set(id, block);
    }
    block.left--;
    return block.next++;
  }

  /** Known states worth caching: they never change once stored. */
  knownStates(): Array<[string, TargetState]> {
    return [...this.states].filter(([, s]) => s.kind === 'known');
  }
}

/** What resolving a list of items produced, to be written and sent in the same transaction. */
interface Work {
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

function emptyWork(): Work {
  return { records: [], entries: [], pending: [], parks: [], released: [], parkUpdates: [], keyed: [], moves: [], skipped: 0 };
}

/**
 * writeback.* → resolved.*, idmap.links, and the parked commands in between. Every batch runs in
 * one transaction under the key map's write-back lock, and its outputs are sent before that
 * transaction commits: a crash in between replays the batch, which resolves to the same commands.
 */
export class WritebackTranslator {
  private readonly cache: LruCache<string, TargetState>;

  constructor(
    private readonly index: TableIndex,
    private readonly repository: KeymapRepository,
    private readonly send: Send,
    private readonly options: WritebackTranslatorOptions,
  ) {
    this.cache = new LruCache(options.cacheSize);
  }

  async handleRequests(messages: readonly InboundMessage[]): Promise<void> {
    const items: Item[] = messages.map((m) => {
      checkEnvelope(m);
      const request = parseWritebackRequest(parseJsonValue(m.value));
      const value = m.value!.toString('utf8');
      return { request, table: targetTable(request, this.index), source: { topic: m.topic, partition: m.partition, offset: m.offset, key: m.key?.toString('utf8') ?? null, value, headers: { ...m.headers } } };
    });
    const work = await this.locked(async (tx, session) => {
      await session.load(items.flatMap(keysOf), true);
      const work = emptyWork();
      await this.resolveAll(items, session, work);
      await this.write(tx, session, work);
      return work;
    });
    this.count(work, 'writeback');
  }

  async handleLinks(messages: readonly InboundMessage[]): Promise<void> {
    const links = messages.flatMap((m) => {
      checkEnvelope(m);
      const link = parseIdmapLink(parseJsonValue(m.value));
      const tableRef = tableRefOf(link.schema, link.table);
      const table = this.index.get(link.system, tableRef);
      // idmap.links is shared by every deployment on the broker: links of other pipelines' tables are not ours.
      if (!table) return [];
      const localKey = canonicalKey(table.config.key, link.key);
      if (localKey === undefined) throw new ContractError(`key: must hold every key column [${table.config.key.join(', ')}] of ${link.system}.${tableRef}`);
      return [{ link, ref: { system: link.system, tableRef, localKey, keyValues: keyValues(table.config.key, link.key) } }];
    });
    if (links.length === 0) return;
    const work = await this.locked(async (tx, session) => {
      await tx.insertEntries(links.map(({ link, ref }): NewEntry => ({ ref, globalId: link.globalId, origin: 'link' })));
      const stored = await tx.findGlobalIds(links.map((l) => l.ref));
      for (const { link, ref } of links) {
        const winner = stored.get(`${ref.system}\u0000${ref.tableRef}\u0000${ref.localKey}`);
        if (winner !== link.globalId) {
          this.options.metrics?.linkConflicts.inc();
          this.options.log.warn({ system: link.system, table: ref.tableRef, key: link.key, globalId: link.globalId, stored: winner ?? null }, 'id-map link contradicts the key map; the stored mapping is kept');
        }
      }
      await tx.markLinked(links.map(({ link, ref }) => ({ system: link.system, tableRef: ref.tableRef, globalId: link.globalId })));
      const work = emptyWork();
      work.keyed.push(...links.map((l) => l.link.globalId));
      await this.write(tx, session, work);
      return work;
    });
    this.count(work, 'links');
  }

  /** Dead-letters commands parked longer than the limit, then re-checks the commands queued behind them. */
  async expireParked(now = new Date()): Promise<number> {
    const { expired } = await this.locked(async (tx, session) => {
      const expired = await tx.expired(this.options.parkTimeoutMs, 500);
      if (expired.length === 0) return { expired, work: emptyWork() };
      const work = emptyWork();
      for (const p of expired) {
        const message: InboundMessage = { topic: p.sourceTopic, partition: p.sourcePartition, offset: p.sourceOffset, key: p.messageKey === null ? null : Buffer.from(p.messageKey), value: Buffer.from(p.messageValue), headers: p.headers, timestamp: String(p.parkedAt.getTime()) };
        const waited = Math.round((now.getTime() - p.parkedAt.getTime()) / 1000);
        const reason = new Error(`parked for ${waited} s, longer than the limit of ${Math.round(this.options.parkTimeoutMs / 1000)} s (idTranslation.parkTimeoutMs): ${p.reason}`);
        work.records.push(deadLetterRecord(this.options.app, message, 'data', reason, 1, now));
      }
      await tx.deleteParked(expired.map((p) => p.id));
      await this.write(tx, session, work, expired);
      return { expired, work };
    });
    if (expired.length > 0) {
      this.options.metrics?.parkedExpired.inc(expired.length);
      this.options.log.warn({ count: expired.length, commands: expired.map((p) => p.commandId) }, 'parked commands waited too long and were dead-lettered');
    }
    return expired.length;
  }

  private async locked<T extends object>(work: (tx: KeymapTransaction, session: Session) => Promise<T>): Promise<T> {
    let session: Session | undefined;
    let result: T;
    try {
      result = await this.repository.withWritebackLock(async (tx) => {
        session = new Session(tx, this.cache, this.options.metrics);
        return work(tx, session);
      });
    } catch (err) {
      throw keymapFailure('key map transaction failed', err);
    }
    for (const [id, state] of session?.knownStates() ?? []) this.cache.set(id, state);
    return result;
  }

  /** Resolves items in order (new messages, or parked commands being retried). */
  private async resolveAll(items: readonly Item[], session: Session, work: Work): Promise<void> {
    const perTable = new Map<string, number>();
    for (const item of items) perTable.set(item.table.tableRef + item.request.system, (perTable.get(item.table.tableRef + item.request.system) ?? 0) + 1);
    for (const item of items) {
      const { request, table } = item;
      const rowKey = rowKeyOf(request, table);
      const resolution = resolveRequest(request, table, session);
      switch (resolution.kind) {
        case 'park': {
          session.parked.add(rowKeyId(rowKey));
          if (item.parked) {
            const same = item.parked.reason === resolution.reason && item.parked.waitingOn.join() === resolution.waitingOn.join();
            if (!same) work.parkUpdates.push({ id: item.parked.id, waitingOn: resolution.waitingOn, reason: resolution.reason });
          } else {
            work.parks.push({
              commandId: request.commandId,
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
          break;
        }
        case 'skip':
          work.skipped++;
          if (item.parked) work.released.push(item.parked.id);
          break;
        case 'command': {
          let command = resolution.command;
          const tableId = table.tableRef + request.system;
          switch (resolution.insert) {
            case undefined:
              break;
            case 'generated':
              work.pending.push({ ...rowKey, commandId: request.commandId });
              session.set(rowKey, { kind: 'pending', insertedBy: request.commandId });
              break;
            case 'allocate': {
              const keyColumn = table.config.key[0]!;
              const key: Row = { [keyColumn]: await session.allocate(table, perTable.get(tableId) ?? 1) };
              command = { ...command, key };
              this.recordKey(work, session, item, key, 'allocated');
              break;
            }
            case 'own-key':
              this.recordKey(work, session, item, command.key, 'request');
              break;
            default: {
              const never: never = resolution.insert;
              throw new Error(`unexpected insert mode ${String(never)}`);
            }
          }
          if (command.newKey) {
            // Later commands of this batch, and of the row's children, name the row by its new key.
            const localKey = canonicalKey(table.config.key, command.newKey)!;
            work.moves.push({ row: rowKey, to: { system: request.system, tableRef: table.tableRef, localKey, keyValues: command.newKey } });
            session.set(rowKey, { kind: 'known', key: command.newKey });
          }
          perTable.set(tableId, Math.max(0, (perTable.get(tableId) ?? 1) - 1));
          work.records.push({
            topic: Topics.resolved({ system: request.system, schema: request.schema, table: request.table }),
            key: request.globalId,
            value: JSON.stringify(command),
            headers: passHeaders(item.source.headers),
          });
          if (item.parked) work.released.push(item.parked.id);
          break;
        }
        default: {
          const never: never = resolution;
          throw new Error(`unexpected resolution ${String(never)}`);
        }
      }
    }
  }

  private recordKey(work: Work, session: Session, item: Item, key: Row, origin: 'allocated' | 'request'): void {
    const { request, table } = item;
    const localKey = canonicalKey(table.config.key, key)!;
    work.entries.push({ ref: { system: request.system, tableRef: table.tableRef, localKey, keyValues: key }, globalId: request.globalId, origin });
    session.set(rowKeyOf(request, table), { kind: 'known', key, insertedBy: request.commandId });
    work.keyed.push(request.globalId);
  }

  /**
   * Stores what the batch decided, releases parked commands whose keys are now known (in arrival
   * order per row, repeatedly, since a released insert can unblock others), and sends everything.
   */
  private async write(tx: KeymapTransaction, session: Session, work: Work, recheck: readonly RowKey[] = []): Promise<void> {
    await this.storeDecisions(tx, work, 0, 0);
    let keyedFrom = 0;
    let rows: RowKey[] = [...recheck];
    for (;;) {
      const entriesFrom = work.entries.length;
      const pendingFrom = work.pending.length;
      const fresh = work.keyed.slice(keyedFrom);
      keyedFrom = work.keyed.length;
      rows = dedupe([...rows, ...(await tx.rowsWaitingOn(fresh))]);
      if (rows.length === 0) break;
      const parked = await tx.parkedFor(rows);
      rows = [];
      const items: Item[] = parked.map((p) => {
        const request = parseWritebackRequest(JSON.parse(p.messageValue));
        return {
          request,
          table: targetTable(request, this.index),
          source: { topic: p.sourceTopic, partition: p.sourcePartition, offset: p.sourceOffset, key: p.messageKey, value: p.messageValue, headers: p.headers },
          parked: p,
        };
      });
      // Within a release, only commands still parked in it hold back the ones behind them.
      for (const item of items) session.parked.delete(rowKeyId(rowKeyOf(item.request, item.table)));
      await session.load(items.flatMap(keysOf), false);
      const releasedBefore = work.released.length;
      await this.resolveAll(items, session, work);
      await this.storeDecisions(tx, work, entriesFrom, pendingFrom);
      if (work.released.length === releasedBefore && work.keyed.length === keyedFrom) break;
    }
    for (const update of work.parkUpdates) await tx.updateParked(update.id, update.waitingOn, update.reason);
    await tx.deleteParked(work.released);
    try {
      await this.send(work.records);
    } catch (err) {
      throw new EnvironmentError(`producing ${work.records.length} records failed: ${errorMessage(err)}`, { cause: err });
    }
  }

  private async storeDecisions(tx: KeymapTransaction, work: Work, entriesFrom: number, pendingFrom: number): Promise<void> {
    await this.storeMoves(tx, work.moves.splice(0));
    const entries = work.entries.slice(entriesFrom);
    if (entries.length > 0) {
      await tx.insertEntries(entries);
      // A key given by the request may already belong to another row: that request is poison.
      const stored = await tx.findGlobalIds(entries.map((e) => e.ref));
      for (const e of entries) {
        const winner = stored.get(`${e.ref.system}\u0000${e.ref.tableRef}\u0000${e.ref.localKey}`);
        if (winner !== e.globalId) {
          throw new ContractError(`key ${JSON.stringify(e.ref.keyValues)} of ${e.ref.system}.${e.ref.tableRef} already belongs to global id ${winner ?? '(another row)'}, not ${e.globalId}`);
        }
      }
    }
    await tx.recordPending(work.pending.slice(pendingFrom));
    const parks = work.parks.splice(0);
    this.options.metrics?.parkedTotal.inc(parks.length);
    await tx.park(parks);
  }

  /** Moves rows to the keys the new side gave them; a key that names another row makes the request poison. */
  private async storeMoves(tx: KeymapTransaction, moves: Work['moves']): Promise<void> {
    if (moves.length === 0) return;
    const owners = await tx.findGlobalIds(moves.map((m) => m.to));
    for (const m of moves) {
      const owner = owners.get(`${m.to.system}\u0000${m.to.tableRef}\u0000${m.to.localKey}`);
      if (owner !== undefined && owner !== m.row.globalId) {
        throw new ContractError(`columns: the new key ${JSON.stringify(m.to.keyValues)} of ${m.to.system}.${m.to.tableRef} already belongs to global id ${owner}, not ${m.row.globalId}`);
      }
    }
    await tx.moveRows(moves);
    this.options.metrics?.keyMoves.inc(moves.length);
  }

  private count(work: Work, direction: 'writeback' | 'links'): void {
    const m = this.options.metrics;
    if (!m) return;
    m.translations.inc({ direction }, work.records.length);
    m.released.inc(work.released.length);
    m.skipped.inc(work.skipped);
  }
}

function dedupe(keys: readonly RowKey[]): RowKey[] {
  const seen = new Map<string, RowKey>();
  for (const key of keys) seen.set(rowKeyId(key), key);
  return [...seen.values()];
}
