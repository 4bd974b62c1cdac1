import type { ChangeEvent, Row } from '@sync/contracts';
import { firstSightGlobalId, keyedEvent, planForward, refId, type ForwardPlan, type LocalKeyRef, type TableIndex } from '@sync/keymap';
import type { CaptureSource } from '@sync/legacy-db';
import type { MappingEngine } from '@sync/mapping';
import type { KeymapLookupRepository } from './keymap-lookup.repository';
import { canonicalValue, type FieldValues } from './reconcile';
import type { VerifyEntity } from './verify-config';

/** A legacy row named by its global id, not yet mapped. */
export interface IdentifiedRow {
  readonly id: string;
  readonly key: Row;
  readonly row: Row;
  readonly plan: ForwardPlan;
  readonly globalIdOf: (ref: LocalKeyRef) => string;
}

/** A legacy row as verify sees it: global id, legacy key, the row image and its mapped field values. */
export interface LegacySideRow {
  readonly id: string;
  readonly key: Row;
  readonly row: Row;
  readonly values: FieldValues;
}

/**
 * Reads the legacy table in key order (the capture source's keyset snapshot read, so values are
 * normalised exactly as legacy-import publishes them), names each row by its global id (the key
 * map's, or the id id-translation will give it on first sight) and maps it with the entity's
 * forward mapping as if it were a snapshot read.
 */
export class LegacySideReader {
  constructor(
    private readonly source: CaptureSource,
    private readonly keymap: KeymapLookupRepository,
    private readonly index: TableIndex,
    private readonly engine: MappingEngine,
    private readonly entity: VerifyEntity,
  ) {}

  /** Rows in the legacy table now. */
  count(): Promise<number> {
    return this.source.rowCount();
  }

  /**
   * The table in key order, `chunkSize` rows at a time. The next chunk is already being read
   * while the caller works on this one.
   */
  async *chunks(chunkSize: number): AsyncGenerator<Row[]> {
    let next: Promise<Row[]> = this.source.snapshotChunk(null, chunkSize);
    for (;;) {
      const page = await next;
      if (page.length === 0) return;
      if (page.length < chunkSize) next = Promise.resolve([]);
      else {
        next = this.source.snapshotChunk(this.keyOf(page[page.length - 1]!), chunkSize);
        // Awaited on the next turn; this only keeps an early stop from leaving it unhandled.
        next.catch(() => undefined);
      }
      yield page;
    }
  }

  /**
   * The chunks' rows that pass `keep`, named by global id. Reading and naming chunk n+1 (two
   * queries) overlaps with the caller's work on chunk n.
   */
  async *identifiedChunks(chunkSize: number, keep: (row: Row) => boolean): AsyncGenerator<{ readonly read: number; readonly rows: IdentifiedRow[] }> {
    const pages = this.chunks(chunkSize);
    const pull = async (): Promise<{ read: number; rows: IdentifiedRow[] } | undefined> => {
      const next = await pages.next();
      if (next.done === true) return undefined;
      return { read: next.value.length, rows: await this.identify(next.value.filter(keep)) };
    };
    let next = pull();
    for (;;) {
      const current = await next;
      if (current === undefined) return;
      next = pull();
      next.catch(() => undefined);
      yield current;
    }
  }

  /** The current row of a legacy key, or null when the table no longer has it. */
  currentRow(key: Row): Promise<Row | null> {
    return this.source.currentRow(key);
  }

  keyOf(row: Row): Row {
    return Object.fromEntries(this.entity.table.key.map((c) => [c, row[c] ?? null]));
  }

  /** Names each row by its global id (one key-map query for the rows and their references). */
  async identify(page: readonly Row[]): Promise<IdentifiedRow[]> {
    const t = this.entity.table;
    const committedAt = new Date().toISOString();
    const plans = page.map((row) => {
      const event: ChangeEvent = { op: 'r', before: null, after: row, ts_ms: Date.now(), source: { system: t.system, schema: t.schema, table: t.name, position: 'verify', committedAt, txId: null } };
      return planForward(event, this.index);
    });
    const refs: LocalKeyRef[] = plans.flatMap((p) => [p.row, ...p.references.flatMap((r) => (r.ref ? [r.ref] : []))]);
    const stored = await this.keymap.globalIds(refs);
    const globalIdOf = (ref: LocalKeyRef): string => stored.get(refId(ref)) ?? firstSightGlobalId(ref);
    return plans.map((plan) => ({ id: globalIdOf(plan.row), key: plan.row.keyValues, row: plan.event.after ?? {}, plan, globalIdOf }));
  }

  /** Maps identified rows with the entity's forward mapping into the compared field values. */
  async map(rows: readonly IdentifiedRow[]): Promise<LegacySideRow[]> {
    const out: LegacySideRow[] = [];
    for (const r of rows) {
      const keyed = keyedEvent(r.plan, r.globalIdOf);
      const data = await this.engine.forwardData(this.entity.mapping, keyed);
      const values: Record<string, string | null> = {};
      for (const f of this.entity.fields) values[f.name] = canonicalValue(data.get(f.eventType)?.[f.eventField]);
      out.push({ id: r.id, key: r.key, row: keyed.after ?? r.row, values });
    }
    return out;
  }
}
