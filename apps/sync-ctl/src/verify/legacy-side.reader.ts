import { Headers, legacyOrigin, Topics, type ChangeEvent, type Row } from '@sync/contracts';
import { firstSightGlobalId, keyedEvent, planForward, refId, type LocalKeyRef, type TableIndex } from '@sync/keymap';
import type { CaptureSource } from '@sync/legacy-db';
import type { MappingEngine } from '@sync/mapping';
import type { KeymapLookupRepository } from './keymap-lookup.repository';
import { canonicalValue, type FieldValues } from './reconcile';
import type { VerifyEntity } from './verify-config';

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

  async *rows(pageSize = 1000): AsyncGenerator<LegacySideRow[]> {
    let after: Row | null = null;
    for (;;) {
      const page = await this.source.snapshotChunk(after, pageSize);
      if (page.length === 0) return;
      yield await this.map(page);
      if (page.length < pageSize) return;
      const last: Row = page[page.length - 1]!;
      after = Object.fromEntries(this.entity.table.key.map((c) => [c, last[c]]));
    }
  }

  private async map(page: readonly Row[]): Promise<LegacySideRow[]> {
    const t = this.entity.table;
    const committedAt = new Date().toISOString();
    const plans = page.map((row) => {
      const event: ChangeEvent = { op: 'r', before: null, after: row, ts_ms: Date.now(), source: { system: t.system, schema: t.schema, table: t.name, position: 'verify', committedAt, txId: null } };
      return planForward(event, this.index);
    });
    const refs: LocalKeyRef[] = plans.flatMap((p) => [p.row, ...p.references.flatMap((r) => (r.ref ? [r.ref] : []))]);
    const stored = await this.keymap.globalIds(refs);
    const globalIdOf = (ref: LocalKeyRef): string => stored.get(refId(ref)) ?? firstSightGlobalId(ref);
    const topic = Topics.keyed({ system: t.system, schema: t.schema, table: t.name });
    const out: LegacySideRow[] = [];
    for (const plan of plans) {
      const keyed = keyedEvent(plan, globalIdOf);
      const result = await this.engine.fromKeyed({ topic, key: keyed.globalId, value: JSON.stringify(keyed), headers: { [Headers.origin]: legacyOrigin(t.system), [Headers.eventId]: 'verify' } });
      const data = new Map<string, Record<string, unknown>>();
      for (const o of result.outputs) {
        if (!o.rule.startsWith(`${this.entity.mapping}.`)) continue;
        const type = o.headers['ce_type'];
        if (type !== undefined) data.set(type, JSON.parse(o.value) as Record<string, unknown>);
      }
      const values: Record<string, string | null> = {};
      for (const f of this.entity.fields) values[f.name] = canonicalValue(data.get(f.eventType)?.[f.eventField]);
      out.push({ id: keyed.globalId, key: plan.row.keyValues, row: keyed.after ?? {}, values });
    }
    return out;
  }
}
