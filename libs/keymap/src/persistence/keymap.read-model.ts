import type { Row } from '@sync/contracts';
import type { DataSource } from 'typeorm';
import type { LocalKeyRef } from '../forward.translator';
import { findGlobalIds } from './keymap.repository';

/** One key-map entry as operators see it. */
export interface KeymapEntryView {
  readonly system: string;
  readonly tableRef: string;
  readonly keyValues: Row;
  readonly globalId: string;
  /** legacy, merge, link, allocated or request (see KeymapEntryEntity). */
  readonly origin: string;
}

interface EntryRow {
  system: string;
  table_ref: string;
  key_values: Row;
  global_id: string;
  origin: string;
}

function view(r: EntryRow): KeymapEntryView {
  return { system: r.system, tableRef: r.table_ref, keyValues: r.key_values, globalId: r.global_id, origin: r.origin };
}

/**
 * Read-only queries on the key map for tools outside id-translation (sync-ctl's ids, status and
 * verify): they reach the keymap_* tables only through here, so the schema has one owner.
 */
export class KeymapReadModel {
  constructor(private readonly dataSource: DataSource) {}

  /** Stored global ids of these local keys, by refId; keys the key map has never seen are absent. */
  globalIds(refs: readonly LocalKeyRef[]): Promise<Map<string, string>> {
    return findGlobalIds(this.dataSource, refs);
  }

  /** Legacy key values of these global ids in one table, by global id. */
  async legacyKeys(system: string, tableRef: string, globalIds: readonly string[]): Promise<Map<string, Row>> {
    if (globalIds.length === 0) return new Map();
    const rows = (await this.dataSource.query('SELECT global_id, key_values FROM keymap_entry WHERE system = $1 AND table_ref = $2 AND global_id = ANY($3::text[])', [system, tableRef, [...globalIds]])) as Array<{
      global_id: string;
      key_values: Row;
    }>;
    return new Map(rows.map((r) => [r.global_id, r.key_values]));
  }

  /** The entry of one local key (canonical form), or none. */
  async entriesOfKey(system: string, tableRef: string, localKey: string): Promise<KeymapEntryView[]> {
    const rows = (await this.dataSource.query('SELECT system, table_ref, key_values, global_id, origin FROM keymap_entry WHERE system = $1 AND table_ref = $2 AND local_key = $3', [system, tableRef, localKey])) as EntryRow[];
    return rows.map(view);
  }

  /** Every legacy key of a global id (optionally in one system), by system and table. */
  async entriesOfGlobalId(globalId: string, system?: string): Promise<KeymapEntryView[]> {
    const rows = (await this.dataSource.query(
      'SELECT system, table_ref, key_values, global_id, origin FROM keymap_entry WHERE global_id = $1 AND ($2::text IS NULL OR system = $2) ORDER BY system, table_ref',
      [globalId, system ?? null],
    )) as EntryRow[];
    return rows.map(view);
  }

  /** Parked write-back commands per table, keyed `<system>.<tableRef>`. */
  async parkedPerTable(): Promise<Map<string, number>> {
    const rows = (await this.dataSource.query('SELECT system, table_ref, count(*)::int AS n FROM keymap_parked_command GROUP BY system, table_ref')) as Array<{ system: string; table_ref: string; n: number }>;
    return new Map(rows.map((r) => [`${r.system}.${r.table_ref}`, r.n]));
  }
}
