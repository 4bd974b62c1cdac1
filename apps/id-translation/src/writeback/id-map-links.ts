import { ContractError, parseIdmapLink, parseJsonValue, type IdmapLink } from '@sync/contracts';
import { canonicalKey, keyValues, tableRefOf, type KeymapTransaction, type LocalKeyRef, type NewEntry, type TableIndex } from '@sync/keymap';
import type { InboundMessage, LogSink } from '@sync/kafka';
import { checkEnvelope } from '../legacy.translator';
import type { TranslationMetrics } from '../translation-metrics';

/** An idmap.links message of one of our tables, and the key-map row it names. */
export interface LinkRef {
  readonly link: IdmapLink;
  readonly ref: LocalKeyRef;
}

/** Parses idmap.links messages; links of tables this pipeline does not sync are left out. */
export function linksOf(messages: readonly InboundMessage[], index: TableIndex): LinkRef[] {
  return messages.flatMap((m) => {
    checkEnvelope(m);
    const link = parseIdmapLink(parseJsonValue(m.value));
    const tableRef = tableRefOf(link.schema, link.table);
    const table = index.get(link.system, tableRef);
    // idmap.links is shared by every deployment on the broker: links of other pipelines' tables are not ours.
    if (!table) return [];
    const localKey = canonicalKey(table.config.key, link.key);
    if (localKey === undefined) throw new ContractError(`key: must hold every key column [${table.config.key.join(', ')}] of ${link.system}.${tableRef}`);
    return [{ link, ref: { system: link.system, tableRef, localKey, keyValues: keyValues(table.config.key, link.key) } }];
  });
}

/** Stores the links (the first mapping of a key wins; a contradicting link is logged and counted) and marks the rows linked. */
export async function storeLinks(tx: KeymapTransaction, links: readonly LinkRef[], log: LogSink, metrics?: TranslationMetrics): Promise<void> {
  await tx.insertEntries(links.map(({ link, ref }): NewEntry => ({ ref, globalId: link.globalId, origin: 'link' })));
  const stored = await tx.findGlobalIds(links.map((l) => l.ref));
  for (const { link, ref } of links) {
    const winner = stored.get(`${ref.system}\u0000${ref.tableRef}\u0000${ref.localKey}`);
    if (winner !== link.globalId) {
      metrics?.linkConflicts.inc();
      log.warn({ system: link.system, table: ref.tableRef, key: link.key, globalId: link.globalId, stored: winner ?? null }, 'id-map link contradicts the key map; the stored mapping is kept');
    }
  }
  await tx.markLinked(links.map(({ link, ref }) => ({ system: link.system, tableRef: ref.tableRef, globalId: link.globalId })));
}
