import { Headers, parseChangeEvent, parseJsonValue, Topics, type HeaderMap } from '@sync/contracts';
import { firstSightGlobalId, keyedEvent, LruCache, ownGlobalId, planForward, refId, type ForwardPlan, type KeymapRepository, type LocalKeyRef, type NewEntry, type TableIndex } from '@sync/keymap';
import { errorMessage, TransientError, type InboundMessage, type OutboundRecord } from '@sync/kafka';
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

/**
 * legacy.* → keyed.*: attaches global ids to a batch of change events with at most three key-map
 * statements (look up, insert the new keys, read the winners back), whatever the batch size.
 */
export class LegacyTranslator {
  // Mappings never change once stored, so a cached one is never stale.
  private readonly cache: LruCache<string, string>;

  constructor(
    private readonly index: TableIndex,
    private readonly repository: KeymapRepository,
    cacheSize: number,
    private readonly metrics?: TranslationMetrics,
  ) {
    this.cache = new LruCache(cacheSize);
  }

  /** Parses and translates; throws ContractError (poison) for a message that cannot be translated. */
  async translate(messages: readonly InboundMessage[]): Promise<OutboundRecord[]> {
    const plans = messages.map((m) => planForward(parseChangeEvent(parseJsonValue(m.value)), this.index));
    let ids: Map<string, string>;
    try {
      ids = await this.globalIds(plans);
    } catch (err) {
      // The message is fine; the key map is not reachable (or busy): wait, never dead-letter.
      throw new TransientError(`key map lookup failed: ${errorMessage(err)}`, { cause: err });
    }
    return plans.map((plan, i) => {
      const event = keyedEvent(plan, (ref) => ids.get(refId(ref))!);
      const source = plan.event.source;
      return {
        topic: Topics.keyed({ system: source.system, schema: source.schema, table: source.table }),
        key: event.globalId,
        value: JSON.stringify(event),
        headers: passHeaders(messages[i]!.headers),
      };
    });
  }

  private async globalIds(plans: readonly ForwardPlan[]): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    // One entry per distinct key; a row's own occurrence carries its merge key, so it wins over a
    // foreign-key mention of the same row.
    const wanted = new Map<string, LocalKeyRef>();
    for (const plan of plans) {
      for (const ref of [plan.row, ...plan.references.map((r) => r.ref)]) {
        if (ref === null) continue;
        const id = refId(ref);
        if (!wanted.has(id) || (ref.merge && !wanted.get(id)!.merge)) wanted.set(id, ref);
      }
    }
    const misses: LocalKeyRef[] = [];
    for (const [id, ref] of wanted) {
      const hit = this.cache.get(id);
      if (hit !== undefined) ids.set(id, hit);
      else misses.push(ref);
    }
    this.metrics?.cache.inc({ result: 'hit' }, wanted.size - misses.length);
    this.metrics?.cache.inc({ result: 'miss' }, misses.length);
    if (misses.length > 0) {
      let found = await this.repository.findGlobalIds(misses);
      let unknown = misses.filter((ref) => !found.has(refId(ref)));
      if (unknown.length > 0) {
        await this.repository.insertEntries(unknown.map((ref): NewEntry => ({ ref, globalId: firstSightGlobalId(ref), origin: ref.merge ? 'merge' : 'legacy' })));
        found = new Map([...found, ...(await this.repository.findGlobalIds(unknown))]);
        unknown = unknown.filter((ref) => !found.has(refId(ref)));
      }
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
