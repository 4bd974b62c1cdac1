import { randomUUID } from 'node:crypto';
import { assertCleanHeaders, cleanText, decodeChangeMessage, Headers, RekeyHeaders, Topics, type HeaderMap } from '@sync/contracts';
import {
  firstMergeWait,
  firstSightGlobalId,
  keyedEventJson,
  keyMoveOf,
  LruCache,
  movedReferenceSources,
  ownGlobalId,
  planForward,
  refId,
  type ForwardPlan,
  type KeyMove,
  type KeymapRepository,
  type LocalKeyRef,
  type NewEntry,
  type TableIndex,
} from '@sync/keymap';
import { silentLog, type InboundMessage, type LogSink, type OutboundRecord } from '@sync/kafka';
import { keymapFailure } from './keymap-failure';
import type { TranslationMetrics } from './translation-metrics';

/** The headers every translated message carries on from its input. */
export function passHeaders(headers: HeaderMap): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [Headers.origin, Headers.causationId, Headers.eventId]) {
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Rejects a message whose key or headers hold text no database or header can carry (a data error naming the field). */
export function checkEnvelope(message: InboundMessage): void {
  if (message.key) cleanText('message key', message.key.toString('utf8'));
  assertCleanHeaders(message.headers);
}

/** The keyed events of a batch's first `handled` messages; the rest waits for `waitingFor`. */
export interface LegacyTranslation {
  readonly records: OutboundRecord[];
  readonly handled: number;
  readonly waitingFor?: LocalKeyRef;
}

export interface LegacyTranslatorOptions {
  /** How long a partition waits in one stretch for merge-table rows its events reference (0: never). */
  readonly mergeWaitMs?: number;
  /**
   * How long a partition waits in one stretch for the other end of a primary-key move: a create
   * under a new key for the delete of the old key, a child whose parent key changed for the
   * parent's move (0: never; the move is then made by whichever end comes first).
   */
  readonly rekeyWaitMs?: number;
  readonly log?: LogSink;
  readonly now?: () => number;
}

/**
 * legacy.* → keyed.*: attaches global ids to a batch of change events with one key-map statement
 * for the keys the cache does not know (insert the new ones, read every stored id back; a second
 * only for keys another replica stored meanwhile), whatever the batch size. A batch whose events
 * could wait (merge tables, primary-key moves) is looked up first.
 */
export class LegacyTranslator {
  // Mappings never change once stored, so a cached one is never stale.
  private readonly cache: LruCache<string, string>;
  /** Per topic-partition: since when its events have been waiting for merge-table rows. */
  private readonly waitingSince = new Map<string, { since: number; expired: boolean }>();

  constructor(
    private readonly index: TableIndex,
    private readonly repository: KeymapRepository,
    cacheSize: number,
    private readonly metrics?: TranslationMetrics,
    private readonly options: LegacyTranslatorOptions = {},
  ) {
    this.cache = new LruCache(cacheSize);
  }

  /**
   * Parses and translates; throws ContractError (poison) for a message that cannot be translated.
   * Stops before the first event naming a merge-table row the key map has not seen yet (its own
   * event, with the natural key, must come first), or waiting for the other end of a primary-key
   * move: `handled` says how far it got. A primary-key move is translated on its own, in order
   * between the batch's other events, because it changes which row a key names.
   */
  async translate(messages: readonly InboundMessage[]): Promise<LegacyTranslation> {
    const items = messages.map((m) => {
      checkEnvelope(m);
      // Either format of legacy.* (native or Debezium, technicalTopics.format); a tombstone
      // (Debezium mode, after a delete) says nothing the delete did not: skipped, not a fault.
      const event = decodeChangeMessage(m.value, m.headers);
      if (event === null) return { message: m, plan: undefined, move: undefined };
      const plan = planForward(event, this.index);
      const move = keyMoveOf(plan, { newKey: m.headers[RekeyHeaders.newKey], oldKey: m.headers[RekeyHeaders.oldKey] });
      return { message: m, plan, move };
    });
    const records: OutboundRecord[] = [];
    const partition = messages[0] ? `${messages[0].topic}/${messages[0].partition}` : '';
    let at = 0;
    while (at < items.length) {
      const item = items[at]!;
      let step: LegacyTranslation;
      if (!item.plan) {
        this.metrics?.tombstonesSkipped.inc();
        at++;
        continue;
      }
      if (item.move) {
        step = await this.translateMove(partition, item.message, item.plan, item.move);
      } else {
        let end = at;
        while (end < items.length && !items[end]!.move && items[end]!.plan) end++;
        step = await this.translatePlain(
          partition,
          items.slice(at, end).map((i) => i.message),
          items.slice(at, end).map((i) => i.plan!),
        );
      }
      records.push(...step.records);
      at += step.handled;
      if (step.handled === 0 || step.waitingFor) return { records, handled: at, ...(step.waitingFor ? { waitingFor: step.waitingFor } : {}) };
    }
    return { records, handled: at };
  }

  /** Events without a key move: one key-map statement for all of them in the usual case (see the class). */
  private async translatePlain(partition: string, messages: readonly InboundMessage[], plans: readonly ForwardPlan[]): Promise<LegacyTranslation> {
    let ids: Map<string, string>;
    let ready: readonly ForwardPlan[];
    let waitingFor: LocalKeyRef | undefined;
    try {
      let known: Map<string, string>;
      if (this.mayHaveToWait(plans)) {
        known = await this.lookup(plans);
        const isKnown = (ref: LocalKeyRef): boolean => known.has(refId(ref));
        const mergeWait = this.mayWait(`${partition}:merge`, firstMergeWait(plans, isKnown), this.options.mergeWaitMs ?? 0, 'merge');
        const moveWait = this.mayWait(`${partition}:rekey-parent`, await this.firstMovedParentWait(plans, isKnown), this.options.rekeyWaitMs ?? 0, 'rekey');
        const wait = [mergeWait, moveWait].filter((w) => w !== undefined).sort((x, y) => x.index - y.index)[0];
        ready = wait ? plans.slice(0, wait.index) : plans;
        waitingFor = wait?.ref;
      } else {
        // No event can wait: the keys the cache does not know go straight to one insert-or-read
        // statement (assign), without a lookup first. Any wait stretch of the partition ends here.
        this.mayWait(`${partition}:merge`, undefined, 0, 'merge');
        this.mayWait(`${partition}:rekey-parent`, undefined, 0, 'rekey');
        known = this.cached(plans).ids;
        ready = plans;
      }
      ids = await this.assign(ready, known);
    } catch (err) {
      // Usually the key map is not reachable (or busy): wait, never dead-letter. A value PostgreSQL
      // refuses (SQLSTATE class 22/23) is the message's fault: dead-letter it.
      throw keymapFailure('key map lookup failed', err);
    }
    const records = ready.map((plan, i) => this.keyedRecord(plan, messages[i]!, (ref) => ids.get(refId(ref))!));
    return { records, handled: ready.length, ...(waitingFor ? { waitingFor } : {}) };
  }

  /**
   * The first update whose foreign key moved from a known row to one the key map has not seen:
   * most likely a child that followed its parent's primary-key update (ON UPDATE CASCADE) before
   * the parent's move was translated. Giving the new parent key an id of its own now would split
   * the parent in two, so the child waits (rekeyWaitMs) for the move.
   */
  private async firstMovedParentWait(plans: readonly ForwardPlan[], isKnown: (ref: LocalKeyRef) => boolean): Promise<MergeWaitLike | undefined> {
    const candidates: Array<{ index: number; ref: LocalKeyRef; was: LocalKeyRef }> = [];
    plans.forEach((plan, index) => {
      for (const [i, was] of movedReferenceSources(plan)) {
        const ref = plan.references[i]!.ref!;
        if (!isKnown(ref)) candidates.push({ index, ref, was });
      }
    });
    if (candidates.length === 0 || (this.options.rekeyWaitMs ?? 0) <= 0) return undefined;
    const wasKnown = await this.lookup(candidates.map((c) => ({ ...plans[c.index]!, row: c.was, references: [] })));
    const first = candidates.find((c) => wasKnown.has(refId(c.was)));
    return first ? { index: first.index, ref: first.ref } : undefined;
  }

  /**
   * One end of a primary-key move. Whichever end is translated first moves the row's global id to
   * the new key (the create waits up to rekeyWaitMs for the delete, which its own partition orders
   * after every earlier change of the old key). The delete publishes nothing when the id moved;
   * the create publishes the move as an update of the same global id.
   */
  private async translateMove(partition: string, message: InboundMessage, plan: ForwardPlan, move: KeyMove): Promise<LegacyTranslation> {
    let known: Map<string, string>;
    try {
      known = await this.repository.findGlobalIds([move.from, move.to]);
      const fromId = known.get(refId(move.from));
      const toKnown = known.has(refId(move.to));
      if (fromId !== undefined && !toKnown) {
        if (move.end === 'new-end' && this.mayWait(`${partition}:rekey-end`, { index: 0, ref: move.from }, this.options.rekeyWaitMs ?? 0, 'rekey')) {
          return { records: [], handled: 0, waitingFor: move.from };
        }
        const moved = await this.repository.moveKey(move.from, move.to);
        this.cache.delete(refId(move.from));
        if (moved !== undefined) {
          this.cache.set(refId(move.to), moved);
          this.metrics?.keyMoves.inc();
        }
        known = await this.repository.findGlobalIds([move.from, move.to]);
      } else if (move.end === 'new-end') {
        this.mayWait(`${partition}:rekey-end`, undefined, 0, 'rekey');
      }
    } catch (err) {
      throw keymapFailure('key map move failed', err);
    }
    if (move.end === 'old-end') {
      // Moved (or nothing to move): the create under the new key carries the row on. The old key
      // still naming an id of its own means the new key had one first: the old row is deleted.
      if (!known.has(refId(move.from))) return { records: [], handled: 1 };
      return this.translatePlain(partition, [message], [plan]);
    }
    // The new key's id is the moved one: the domain side sees an update of the same aggregate.
    const asUpdate: ForwardPlan = known.has(refId(move.to)) ? { ...plan, event: { ...plan.event, op: 'u' } } : plan;
    return this.translatePlain(partition, [message], [asUpdate]);
  }

  private keyedRecord(plan: ForwardPlan, message: InboundMessage, globalIdOf: (ref: LocalKeyRef) => string): OutboundRecord {
    const source = plan.event.source;
    const globalId = globalIdOf(plan.row);
    return {
      topic: Topics.keyed({ system: source.system, schema: source.schema, table: source.table }),
      key: globalId,
      value: keyedEventJson(plan, globalId, globalIdOf),
      headers: passHeaders(message.headers),
    };
  }

  /**
   * The wait to honour, if any. A partition waits at most `limit` in one stretch (a parent that
   * never comes, e.g. its entity is disabled, must not stop it for good); past that its events go
   * through: merge-table rows named get key-based ids, as without a merge rule, and a key move is
   * made by the end that is there.
   */
  private mayWait<T>(stretchKey: string, wait: T | undefined, limit: number, kind: 'merge' | 'rekey'): T | undefined {
    if (wait === undefined || limit <= 0) {
      this.waitingSince.delete(stretchKey);
      return undefined;
    }
    const now = (this.options.now ?? Date.now)();
    const stretch = this.waitingSince.get(stretchKey) ?? { since: now, expired: false };
    this.waitingSince.set(stretchKey, stretch);
    if (now - stretch.since < limit) return wait;
    if (!stretch.expired) {
      stretch.expired = true;
      if (kind === 'merge') this.metrics?.mergeWaitExpired.inc();
      (this.options.log ?? silentLog).warn(
        { partition: stretchKey, waitedMs: now - stretch.since, limitMs: limit },
        kind === 'merge'
          ? 'merge-table rows still unknown after mergeWaitMs: going on; the rows named get key-based ids and will not merge'
          : 'the other end of a primary-key move is still unseen after rekeyWaitMs: going on; the move is made by the end that is here',
      );
    }
    return undefined;
  }

  /**
   * Whether an event of the plans could wait (merge-table rows, a parent's key move): only then is
   * the key map looked up before ids are assigned. A merge wait needs a foreign key to a merge
   * table and mergeWaitMs; a rekey wait an update that moved a foreign key and rekeyWaitMs.
   */
  private mayHaveToWait(plans: readonly ForwardPlan[]): boolean {
    const merge = (this.options.mergeWaitMs ?? 0) > 0;
    const rekey = (this.options.rekeyWaitMs ?? 0) > 0;
    if (!merge && !rekey) return false;
    return plans.some(
      (plan) =>
        (merge && plan.references.some(({ fk, ref }) => ref !== null && fk.target.merge !== undefined)) ||
        (rekey && plan.event.op === 'u' && plan.references.length > 0 && movedReferenceSources(plan).size > 0),
    );
  }

  /** The cached global ids of the keys the plans name, by refId, and the keys not cached. */
  private cached(plans: readonly ForwardPlan[]): { ids: Map<string, string>; misses: LocalKeyRef[] } {
    const ids = new Map<string, string>();
    const misses: LocalKeyRef[] = [];
    let hits = 0;
    for (const [id, ref] of wantedRefs(plans)) {
      const hit = this.cache.get(id);
      if (hit !== undefined) {
        ids.set(id, hit);
        hits++;
      } else misses.push(ref);
    }
    this.metrics?.cache.inc({ result: 'hit' }, hits);
    this.metrics?.cache.inc({ result: 'miss' }, misses.length);
    return { ids, misses };
  }

  /** Stored global ids (cache, then key map) of every key the plans name, by refId. */
  private async lookup(plans: readonly ForwardPlan[]): Promise<Map<string, string>> {
    const { ids, misses } = this.cached(plans);
    if (misses.length === 0) return ids;
    for (const [id, globalId] of await this.repository.findGlobalIds(misses)) {
      ids.set(id, globalId);
      this.cache.set(id, globalId);
    }
    return ids;
  }

  /** Global ids for every key the plans name: `known` ones, and new ones stored on first sight. */
  private async assign(plans: readonly ForwardPlan[], known: ReadonlyMap<string, string>): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    const misses: LocalKeyRef[] = [];
    for (const [id, ref] of wantedRefs(plans)) {
      const globalId = known.get(id);
      if (globalId !== undefined) ids.set(id, globalId);
      else misses.push(ref);
    }
    if (misses.length > 0) {
      // One statement: stores the new keys and reads back the stored id of every key (the winner
      // when another replica stored the key first).
      let found = await this.repository.claimEntries(misses.map((ref): NewEntry => ({ ref, globalId: firstSightGlobalId(ref), origin: ref.merge ? 'merge' : 'legacy' })));
      // The merge id is taken by another row of the same table (two rows of one system share the
      // natural key): these keep their own ids. A key-based id is taken when the key's earlier row
      // moved to another key (a primary-key update) and the key is used again: that row gets a
      // random id (replicas agree through the key map: the first stored wins).
      for (const fallback of [ownGlobalId, (): string => randomUUID()]) {
        const unknown = misses.filter((ref) => !found.has(refId(ref)));
        if (unknown.length === 0) break;
        found = new Map([...found, ...(await this.repository.claimEntries(unknown.map((ref): NewEntry => ({ ref, globalId: fallback(ref), origin: 'legacy' }))))]);
      }
      const still = misses.filter((ref) => !found.has(refId(ref)));
      if (still.length > 0) throw new Error(`key map: no global id could be stored for ${still.length} keys (first: ${still[0]!.system} ${still[0]!.tableRef} ${still[0]!.localKey})`);
      for (const [id, globalId] of found) {
        ids.set(id, globalId);
        this.cache.set(id, globalId);
      }
    }
    return ids;
  }
}

interface MergeWaitLike {
  readonly index: number;
  readonly ref: LocalKeyRef;
}

/** One entry per distinct key; a row's own occurrence carries its merge key, so it wins over a foreign-key mention of the same row. */
function wantedRefs(plans: readonly ForwardPlan[]): Map<string, LocalKeyRef> {
  const wanted = new Map<string, LocalKeyRef>();
  for (const plan of plans) {
    for (const ref of [plan.row, ...plan.references.map((r) => r.ref)]) {
      if (ref === null) continue;
      const id = refId(ref);
      if (!wanted.has(id) || (ref.merge && !wanted.get(id)!.merge)) wanted.set(id, ref);
    }
  }
  return wanted;
}
