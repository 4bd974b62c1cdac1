import type { Row } from '@sync/contracts';
import { tableRefOf } from '@sync/keymap';
import { NO_PROGRESS, type ProgressSink } from '../progress';
import type { KeymapLookupRepository } from './keymap-lookup.repository';
import type { IdentifiedRow, LegacySideReader } from './legacy-side.reader';
import type { NewSideRepository, NewSideRow } from './new-side.repository';
import { canonicalValue, diffRow, IdHashSet, persistent, sampleSelector, timestampOf, type FieldValues, type RowDifference } from './reconcile';
import type { VerifyEntity } from './verify-config';

/** Which rows to compare: all, a sample by global id, or those the legacy side changed since a time. */
export interface VerifySelection {
  /** A fraction in (0, 1], or a row count (turned into the fraction count / legacy rows at the start). */
  readonly sample?: { readonly fraction: number; readonly seed: string } | { readonly rows: number; readonly seed: string };
  /** Only legacy rows whose `column` holds a time at or after `at`. */
  readonly since?: { readonly column: string; readonly at: Date };
}

export interface VerifyOptions extends VerifySelection {
  /** Re-checks of the differences found, `recheckDelayMs` apart; only those that persist are reported. */
  readonly rechecks: number;
  readonly recheckDelayMs: number;
  /** Legacy rows per chunk (one keyset read, one key-map query, one new-side query each). */
  readonly chunkSize: number;
  readonly progress?: ProgressSink;
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
  /** Legacy rows compared (all of them unless --sample / --since). */
  readonly legacyRows: number;
  /** New-side rows compared: the main table's rows, or those of the sample / of the legacy rows changed since. */
  readonly newRows: number;
  /** Chunks compared: key ranges of the legacy table, plus id ranges of the new side when it was searched for extra rows. */
  readonly ranges: number;
  readonly differingRanges: number;
  readonly comparisons: number;
  /** Differences seen by the first comparison, before the re-checks. */
  readonly firstSeen: number;
  readonly rechecks: number;
  readonly differences: readonly ReportedDifference[];
  /** Present with --sample / --since: what was selected, and how many legacy rows were read to select them. */
  readonly selection?: {
    readonly sample?: { readonly fraction: number; readonly seed: string };
    readonly since?: { readonly column: string; readonly at: string };
    readonly legacyRowsRead: number;
  };
}

interface Found {
  readonly difference: RowDifference;
  readonly key: Row | null;
  readonly row: Row | null;
}

/**
 * Reconciles one entity in one streaming pass over the legacy table in key order: each chunk's
 * rows are named by global id and mapped, the new side's rows of those ids are read by id, and
 * the two are compared row by row. The new side's rows no legacy row named are then found by
 * their ids (only when the counts say there are any). Memory: one chunk, 8 bytes per legacy row
 * (IdHashSet), and the differences. Differences are re-checked before they are reported.
 */
export class VerifyService {
  private readonly progress: ProgressSink;

  constructor(
    private readonly entity: VerifyEntity,
    private readonly legacy: LegacySideReader,
    private readonly fresh: NewSideRepository,
    private readonly keymap: KeymapLookupRepository,
    private readonly options: VerifyOptions,
  ) {
    if (!Number.isInteger(options.chunkSize) || options.chunkSize < 1) throw new Error(`chunk size must be a positive integer, got ${options.chunkSize}`);
    this.progress = options.progress ?? NO_PROGRESS;
  }

  private get fields(): string[] {
    return this.entity.fields.map((f) => f.name);
  }

  private newValues(row: NewSideRow): FieldValues {
    return Object.fromEntries(this.fields.map((f) => [f, canonicalValue(row.columns[f])]));
  }

  async run(): Promise<VerifyReport> {
    const { chunkSize, since } = this.options;
    const legacyTotal = await this.legacy.count();
    this.progress.setTotal(legacyTotal);
    const sample = this.sampleFraction(legacyTotal);
    const inSample = sample ? sampleSelector(sample.fraction, sample.seed) : () => true;
    const sinceMs = since?.at.getTime();
    const seen = new IdHashSet();
    const found: Found[] = [];
    let legacyRead = 0;
    let legacyCompared = 0;
    let matched = 0;
    let ranges = 0;
    let differingRanges = 0;

    const column = since?.column;
    const keep = (row: Row): boolean => {
      if (column === undefined || sinceMs === undefined) return true;
      if (!(column in row)) throw new VerifyInputError(`--since: the legacy table ${this.entity.entity} has no column ${column}`);
      return (timestampOf(row[column]) ?? -Infinity) >= sinceMs;
    };
    for await (const chunk of this.legacy.identifiedChunks(chunkSize, keep)) {
      ranges++;
      legacyRead += chunk.read;
      const identified = chunk.rows.filter((r) => inSample(r.id));
      // The new side is read while this chunk is mapped.
      const freshRows = this.fresh.byIds(this.entity, identified.map((r) => r.id));
      freshRows.catch(() => undefined);
      const mapped = await this.legacy.map(identified);
      const byId = new Map((await freshRows).map((r) => [r.id, this.newValues(r)]));
      let differing = false;
      for (const r of mapped) {
        seen.add(r.id);
        const fresh = byId.get(r.id);
        if (fresh !== undefined) matched++;
        const d = diffRow(r.id, r.values, fresh, this.fields);
        if (d) {
          found.push({ difference: d, key: r.key, row: r.row });
          differing = true;
        }
      }
      legacyCompared += mapped.length;
      if (differing) differingRanges++;
      this.progress.add(chunk.read);
    }

    // New-side rows no legacy row named. Without a selection the counts tell whether there are
    // any; a sample needs the new side's ids; --since cannot tell (a deleted row has no time).
    let newRows = matched;
    if (!since) {
      const newTotal = await this.fresh.count(this.entity);
      if (!sample) newRows = newTotal;
      if (sample || newTotal !== matched) {
        this.progress.setTotal(legacyTotal + newTotal);
        const extras = await this.newSideExtras(seen, inSample);
        ranges += extras.ranges;
        differingRanges += extras.differingRanges;
        if (sample) newRows = extras.selected;
        found.push(...extras.found);
      }
    }
    this.progress.finish();

    const base = {
      entity: this.entity.entity,
      name: this.entity.name,
      newSide: this.entity.tables.map((t) => t.table),
      legacyRows: legacyCompared,
      newRows,
      ranges,
      differingRanges,
      comparisons: ranges,
      ...(sample || since
        ? { selection: { ...(sample ? { sample } : {}), ...(since ? { since: { column: since.column, at: since.at.toISOString() } } : {}), legacyRowsRead: legacyRead } }
        : {}),
    };
    if (found.length === 0) return { ...base, firstSeen: 0, rechecks: 0, differences: [] };
    return { ...base, ...(await this.recheck(found)) };
  }

  private sampleFraction(legacyTotal: number): { fraction: number; seed: string } | undefined {
    const sample = this.options.sample;
    if (sample === undefined) return undefined;
    if ('fraction' in sample) return sample;
    return { fraction: legacyTotal === 0 ? 1 : Math.min(1, sample.rows / legacyTotal), seed: sample.seed };
  }

  /** The new side's ids in id order, chunk by chunk; those not seen on the legacy side are read in full. */
  private async newSideExtras(seen: IdHashSet, inSample: (id: string) => boolean): Promise<{ found: Found[]; ranges: number; differingRanges: number; selected: number }> {
    const found: Found[] = [];
    let ranges = 0;
    let differingRanges = 0;
    let selected = 0;
    let after: string | null = null;
    for (;;) {
      const ids = await this.fresh.ids(this.entity, after, this.options.chunkSize);
      if (ids.length === 0) break;
      ranges++;
      const picked = ids.filter(inSample);
      selected += picked.length;
      const extra = picked.filter((id) => !seen.has(id));
      if (extra.length > 0) {
        differingRanges++;
        const known = await this.keymap.legacyKeys(this.entity.table.system, tableRefOf(this.entity.table.schema, this.entity.table.name), extra);
        for (const row of await this.fresh.byIds(this.entity, extra)) {
          const d = diffRow(row.id, undefined, this.newValues(row), this.fields)!;
          found.push({ difference: d, key: known.get(row.id) ?? null, row: null });
        }
      }
      this.progress.add(ids.length);
      if (ids.length < this.options.chunkSize) break;
      after = ids[ids.length - 1]!;
    }
    return { found, ranges, differingRanges, selected };
  }

  /**
   * Changes in flight (captured but not yet applied on the other side) look like differences for
   * a moment: each is read again on both sides (the legacy row by its key, the new side by id)
   * after a delay, and only what is still different after every re-check is reported.
   */
  private async recheck(first: readonly Found[]): Promise<Pick<VerifyReport, 'firstSeen' | 'rechecks' | 'differences'>> {
    let current = [...first];
    let rechecks = 0;
    while (current.length > 0 && rechecks < this.options.rechecks) {
      await (this.options.sleep ?? defaultSleep)(this.options.recheckDelayMs);
      rechecks++;
      const latest = await this.reread(current);
      const still = new Set(persistent(current.map((f) => f.difference), latest.map((f) => f.difference)).map((d) => d.id));
      current = latest.filter((f) => still.has(f.difference.id));
    }
    const differences = current.map((f) => ({ ...f.difference, legacyKey: f.key, legacyRow: f.row }));
    differences.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { firstSeen: first.length, rechecks, differences };
  }

  /** The current state of these rows on both sides, compared again. */
  private async reread(rows: readonly Found[]): Promise<Found[]> {
    const legacyRows: Row[] = [];
    const keyOfId = new Map<string, Row>();
    for (const f of rows) {
      if (f.key === null) continue;
      keyOfId.set(f.difference.id, f.key);
      const row = await this.legacy.currentRow(f.key);
      if (row !== null) legacyRows.push(row);
    }
    const legacy = new Map<string, { key: Row; row: Row; values: FieldValues }>();
    for (let i = 0; i < legacyRows.length; i += this.options.chunkSize) {
      const identified: IdentifiedRow[] = await this.legacy.identify(legacyRows.slice(i, i + this.options.chunkSize));
      for (const r of await this.legacy.map(identified)) legacy.set(r.id, r);
    }
    const ids = [...new Set([...rows.map((f) => f.difference.id), ...legacy.keys()])];
    const fresh = new Map<string, FieldValues>();
    for (let i = 0; i < ids.length; i += this.options.chunkSize) for (const r of await this.fresh.byIds(this.entity, ids.slice(i, i + this.options.chunkSize))) fresh.set(r.id, this.newValues(r));
    const out: Found[] = [];
    for (const id of ids) {
      const l = legacy.get(id);
      const d = diffRow(id, l?.values, fresh.get(id), this.fields);
      if (d) out.push({ difference: d, key: l?.key ?? keyOfId.get(id) ?? null, row: l?.row ?? null });
    }
    return out;
  }
}

/** A bad --since / --sample for this table (e.g. a column it does not have): exit code 2. */
export class VerifyInputError extends Error {
  override readonly name = 'VerifyInputError';
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
