import { rowKeyId, type IndexedTable, type KeymapTransaction, type LruCache, type ResolveView, type RowKey, type TargetState } from '@sync/keymap';
import type { TranslationMetrics } from '../translation-metrics';

/** The key-map view of one locked transaction: loaded in bulk, updated as the batch is resolved. */
export class KeymapSession implements ResolveView {
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
