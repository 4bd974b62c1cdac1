import type { Row } from '@sync/contracts';
import { tableRefOf } from '@sync/keymap';
import type { KeymapLookupRepository } from './keymap-lookup.repository';
import type { LegacySideReader, LegacySideRow } from './legacy-side.reader';
import type { NewSideRepository, NewSideRow } from './new-side.repository';
import { bisect, bucketOf, canonicalValue, diffRows, persistent, RangeSummary, rowDigest, type FieldValues, type RowDifference } from './reconcile';
import type { VerifyEntity } from './verify-config';

export interface VerifyOptions {
  readonly rangeBits: number;
  /** Re-checks of the differences found, `recheckDelayMs` apart; only those that persist are reported. */
  readonly rechecks: number;
  readonly recheckDelayMs: number;
  readonly pageSize: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A difference as reported: the row's legacy key (when the legacy side or the key map knows it) and the legacy row. */
export interface ReportedDifference extends RowDifference {
  readonly legacyKey: Row | null;
  readonly legacyRow: Row | null;
}

export interface VerifyReport {
  readonly entity: string;
  readonly name: string;
  readonly newSide: readonly string[];
  readonly legacyRows: number;
  readonly newRows: number;
  readonly ranges: number;
  readonly differingRanges: number;
  readonly comparisons: number;
  /** Differences seen by the first row-level comparison, before the re-checks. */
  readonly firstSeen: number;
  readonly rechecks: number;
  readonly differences: readonly ReportedDifference[];
}

/** Reconciles one entity: range summaries of both sides, bisection, row diff, re-checks. */
export class VerifyService {
  constructor(
    private readonly entity: VerifyEntity,
    private readonly legacy: LegacySideReader,
    private readonly fresh: NewSideRepository,
    private readonly keymap: KeymapLookupRepository,
    private readonly options: VerifyOptions,
  ) {}

  private get fields(): string[] {
    return this.entity.fields.map((f) => f.name);
  }

  private newValues(row: NewSideRow): FieldValues {
    return Object.fromEntries(this.fields.map((f) => [f, canonicalValue(row.columns[f])]));
  }

  async run(): Promise<VerifyReport> {
    const { rangeBits, pageSize } = this.options;
    const legacySummary = new RangeSummary(rangeBits);
    const newSummary = new RangeSummary(rangeBits);
    for await (const page of this.legacy.rows(pageSize)) for (const r of page) legacySummary.add(r.id, rowDigest(r, this.fields));
    for await (const page of this.newPages()) for (const r of page) newSummary.add(r.id, rowDigest({ id: r.id, values: this.newValues(r) }, this.fields));
    const { ranges, comparisons } = bisect(legacySummary, newSummary);
    const base = {
      entity: this.entity.entity,
      name: this.entity.name,
      newSide: this.entity.tables.map((t) => t.table),
      legacyRows: legacySummary.total(),
      newRows: newSummary.total(),
      ranges: legacySummary.ranges,
      differingRanges: ranges.length,
      comparisons,
    };
    if (ranges.length === 0) return { ...base, firstSeen: 0, rechecks: 0, differences: [] };

    const suspect = new Set(ranges);
    let snapshot = await this.collect((id) => suspect.has(bucketOf(id, rangeBits)));
    let differences = diffRows(snapshot.legacyValues, snapshot.newValues, this.fields);
    const firstSeen = differences.length;
    let rechecks = 0;
    // Changes in flight (captured but not yet applied on the other side) look like differences
    // for a moment: only what is still different after every re-check is reported.
    while (differences.length > 0 && rechecks < this.options.rechecks) {
      await (this.options.sleep ?? defaultSleep)(this.options.recheckDelayMs);
      rechecks++;
      const ids = new Set(differences.map((d) => d.id));
      snapshot = await this.collect((id) => ids.has(id), [...ids]);
      differences = persistent(differences, diffRows(snapshot.legacyValues, snapshot.newValues, this.fields));
    }
    const missingKeys = differences.filter((d) => !snapshot.legacyRows.has(d.id)).map((d) => d.id);
    const known = await this.keymap.legacyKeys(this.entity.table.system, tableRefOf(this.entity.table.schema, this.entity.table.name), missingKeys);
    return {
      ...base,
      firstSeen,
      rechecks,
      differences: differences.map((d) => {
        const row = snapshot.legacyRows.get(d.id);
        return { ...d, legacyKey: row?.key ?? known.get(d.id) ?? null, legacyRow: row?.row ?? null };
      }),
    };
  }

  private async *newPages(): AsyncGenerator<NewSideRow[]> {
    let after: string | null = null;
    for (;;) {
      const page = await this.fresh.page(this.entity, after, this.options.pageSize);
      if (page.length > 0) yield page;
      if (page.length < this.options.pageSize) return;
      after = page[page.length - 1]!.id;
    }
  }

  /** Both sides' rows whose ids pass `keep` (by id list on the new side when given). */
  private async collect(keep: (id: string) => boolean, ids?: readonly string[]): Promise<{ legacyRows: Map<string, LegacySideRow>; legacyValues: Map<string, FieldValues>; newValues: Map<string, FieldValues> }> {
    const legacyRows = new Map<string, LegacySideRow>();
    for await (const page of this.legacy.rows(this.options.pageSize)) for (const r of page) if (keep(r.id)) legacyRows.set(r.id, r);
    const newValues = new Map<string, FieldValues>();
    if (ids) for (const r of await this.fresh.byIds(this.entity, ids)) newValues.set(r.id, this.newValues(r));
    else for await (const page of this.newPages()) for (const r of page) if (keep(r.id)) newValues.set(r.id, this.newValues(r));
    return { legacyRows, legacyValues: new Map([...legacyRows].map(([id, r]) => [id, r.values])), newValues };
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
