import { assertCleanHeaders, cleanText, Headers, parseChangeEvent, parseJsonValue, Topics, type HeaderMap } from '@sync/contracts';
import {
  firstMergeWait,
  firstSightGlobalId,
  keyedEvent,
  LruCache,
  ownGlobalId,
  planForward,
  refId,
  type ForwardPlan,
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
  readonly log?: LogSink;
  readonly now?: () => number;
}

/**
 * legacy.* → keyed.*: attaches global ids to a batch of change events with at most three key-map
 * statements (look up, insert the new keys, read the winners back), whatever the batch size.
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
   * event, with the natural key, must come first): `handled` says how far it got.
   */
  async translate(messages: readonly InboundMessage[]): Promise<LegacyTranslation> {
    const plans = messages.map((m) => {
      checkEnvelope(m);
      return planForward(parseChangeEvent(parseJsonValue(m.value)), this.index);
    });
    let ids: Map<string, string>;
    let ready: readonly ForwardPlan[];
    let waitingFor: LocalKeyRef | undefined;
    try {
      const known = await this.lookup(plans);
      const wait = this.mayWait(messages[0], firstMergeWait(plans, (ref) => known.has(refId(ref))));
      ready = wait ? plans.slice(0, wait.index) : plans;
      waitingFor = wait?.ref;
      ids = await this.assign(ready, known);
    } catch (err) {
      // Usually the key map is not reachable (or busy): wait, never dead-letter. A value PostgreSQL
      // refuses (SQLSTATE class 22/23) is the message's fault: dead-letter it.
      throw keymapFailure('key map lookup failed', err);
    }
    const records = ready.map((plan, i) => {
      const event = keyedEvent(plan, (ref) => ids.get(refId(ref))!);
      const source = plan.event.source;
      return {
        topic: Topics.keyed({ system: source.system, schema: source.schema, table: source.table }),
        key: event.globalId,
        value: JSON.stringify(event),
        headers: passHeaders(messages[i]!.headers),
      };
    });
    return { records, handled: ready.length, ...(waitingFor ? { waitingFor } : {}) };
  }

  /**
   * The wait to honour, if any. A partition waits at most mergeWaitMs in one stretch (a parent
   * that never comes, e.g. its entity is disabled, must not stop it for good); past that its
   * events go through and the rows they name get key-based ids, as without a merge rule.
   */
  private mayWait<T>(first: InboundMessage | undefined, wait: T | undefined): T | undefined {
    const limit = this.options.mergeWaitMs ?? 0;
    const partition = first ? `${first.topic}/${first.partition}` : '';
    if (wait === undefined || limit <= 0) {
      this.waitingSince.delete(partition);
      return undefined;
    }
    const now = (this.options.now ?? Date.now)();
    const stretch = this.waitingSince.get(partition) ?? { since: now, expired: false };
    this.waitingSince.set(partition, stretch);
    if (now - stretch.since < limit) return wait;
    if (!stretch.expired) {
      stretch.expired = true;
      this.metrics?.mergeWaitExpired.inc();
      (this.options.log ?? silentLog).warn(
        { partition, waitedMs: now - stretch.since, limitMs: limit },
        'merge-table rows still unknown after mergeWaitMs: going on; the rows named get key-based ids and will not merge',
      );
    }
    return undefined;
  }

  /** Stored global ids (cache, then key map) of every key the plans name, by refId. */
  private async lookup(plans: readonly ForwardPlan[]): Promise<Map<string, string>> {
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
      await this.repository.insertEntries(misses.map((ref): NewEntry => ({ ref, globalId: firstSightGlobalId(ref), origin: ref.merge ? 'merge' : 'legacy' })));
      let found = await this.repository.findGlobalIds(misses);
      const unknown = misses.filter((ref) => !found.has(refId(ref)));
      if (unknown.length > 0) {
        // The merge id is taken by another row of the same table (two rows of one system share the
        // natural key): these keep their own ids.
        await this.repository.insertEntries(unknown.map((ref): NewEntry => ({ ref, globalId: ownGlobalId(ref), origin: 'legacy' })));
        found = new Map([...found, ...(await this.repository.findGlobalIds(unknown))]);
        const still = unknown.filter((ref) => !found.has(refId(ref)));
        if (still.length > 0) throw new Error(`key map: no global id could be stored for ${still.length} keys (first: ${still[0]!.system} ${still[0]!.tableRef} ${still[0]!.localKey})`);
      }
      for (const [id, globalId] of found) {
        ids.set(id, globalId);
        this.cache.set(id, globalId);
      }
    }
    return ids;
  }
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
