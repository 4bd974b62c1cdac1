import type { Row } from '@sync/contracts';
import { createKeymapDataSource, KeymapReadModel, type LocalKeyRef } from '@sync/keymap';

/** Read-only lookups in id-translation's key map, batched per page (the queries live in libs/keymap). */
export class KeymapLookupRepository {
  private readonly ds;
  private readonly keymap: KeymapReadModel;

  constructor(url: string) {
    this.ds = createKeymapDataSource(url, { poolSize: 2 });
    this.keymap = new KeymapReadModel(this.ds);
  }

  async connect(): Promise<void> {
    await this.ds.initialize();
  }

  /** Stored global ids of these local keys, by refId; keys the key map has never seen are absent. */
  globalIds(refs: readonly LocalKeyRef[]): Promise<Map<string, string>> {
    return this.keymap.globalIds(refs);
  }

  /** Legacy key values of these global ids in one table. */
  legacyKeys(system: string, tableRef: string, globalIds: readonly string[]): Promise<Map<string, Row>> {
    return this.keymap.legacyKeys(system, tableRef, globalIds);
  }

  async close(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
