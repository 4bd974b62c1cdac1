import type { Row } from '@sync/contracts';
import { createKeymapDataSource, refId, type LocalKeyRef } from '@sync/keymap';

/** Read-only lookups in id-translation's key map (keymap_entry), batched per page. */
export class KeymapLookupRepository {
  private readonly ds;

  constructor(url: string) {
    this.ds = createKeymapDataSource(url, { poolSize: 2 });
  }

  async connect(): Promise<void> {
    await this.ds.initialize();
  }

  /** Stored global ids of these local keys, by refId; keys the key map has never seen are absent. */
  async globalIds(refs: readonly LocalKeyRef[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (refs.length === 0) return out;
    const rows = (await this.ds.query(
      `SELECT e.system, e.table_ref, e.local_key, e.global_id
         FROM keymap_entry e
         JOIN unnest($1::text[], $2::text[], $3::text[]) AS q(system, table_ref, local_key)
           ON e.system = q.system AND e.table_ref = q.table_ref AND e.local_key = q.local_key`,
      [refs.map((r) => r.system), refs.map((r) => r.tableRef), refs.map((r) => r.localKey)],
    )) as Array<{ system: string; table_ref: string; local_key: string; global_id: string }>;
    for (const r of rows) out.set(refId({ system: r.system, tableRef: r.table_ref, localKey: r.local_key }), r.global_id);
    return out;
  }

  /** Legacy key values of these global ids in one table. */
  async legacyKeys(system: string, tableRef: string, globalIds: readonly string[]): Promise<Map<string, Row>> {
    if (globalIds.length === 0) return new Map();
    const rows = (await this.ds.query('SELECT global_id, key_values FROM keymap_entry WHERE system = $1 AND table_ref = $2 AND global_id = ANY($3::text[])', [system, tableRef, [...globalIds]])) as Array<{
      global_id: string;
      key_values: Row;
    }>;
    return new Map(rows.map((r) => [r.global_id, r.key_values]));
  }

  async close(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
