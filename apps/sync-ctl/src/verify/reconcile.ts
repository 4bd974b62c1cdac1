import { createHash } from 'node:crypto';

// The pure half of `sync-ctl verify`: canonical values, the row-level diff, the ids seen, the
// sample and the change times. No I/O here.

/** Field values of one entity row as compared: field name → canonical value. */
export type FieldValues = Readonly<Record<string, string | null>>;

/** One row of either side, named by its global id. */
export interface VerifyRow {
  readonly id: string;
  readonly values: FieldValues;
}

const DECIMAL = /^-?\d+\.\d+$/;

/** An ISO-8601 UTC timestamp as `type: date` writes it (fraction of any length). */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * The text a value is compared as, so that both sides' drivers agree: null stays null, a Date
 * becomes ISO-8601 UTC, an ISO-8601 UTC timestamp string too (to the millisecond), numbers and
 * booleans their text, a decimal string loses trailing fractional zeros ("19.90" = 19.9), objects
 * canonical JSON (keys sorted).
 */
export function canonicalValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') {
    if (DECIMAL.test(value)) return value.replace(/\.?0+$/, '');
    // A mapping's `type: date` keeps microseconds; the new side's driver reads timestamps to the
    // millisecond (JavaScript Date): timestamps compare to the millisecond.
    if (ISO_TIMESTAMP.test(value)) return new Date(value).toISOString();
    return value;
  }
  if (typeof value === 'number' || typeof value === 'bigint') return canonicalValue(String(value));
  if (typeof value === 'boolean') return String(value);
  return canonicalJson(value);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export type DifferenceKind = 'missing-on-new-side' | 'missing-on-legacy-side' | 'different';

/** One row that does not agree, with the fields that differ (both values). */
export interface RowDifference {
  readonly id: string;
  readonly kind: DifferenceKind;
  readonly fields: Readonly<Record<string, { readonly legacy: string | null; readonly new: string | null }>>;
}

/** One row of each side compared field by field; undefined when they agree. */
export function diffRow(id: string, legacy: FieldValues | undefined, fresh: FieldValues | undefined, fields: readonly string[]): RowDifference | undefined {
  if (legacy === undefined && fresh === undefined) return undefined;
  const differing: Record<string, { legacy: string | null; new: string | null }> = {};
  for (const f of fields) {
    const lv = legacy?.[f] ?? null;
    const nv = fresh?.[f] ?? null;
    if (legacy === undefined || fresh === undefined || lv !== nv) differing[f] = { legacy: legacy === undefined ? null : lv, new: fresh === undefined ? null : nv };
  }
  if (legacy === undefined) return { id, kind: 'missing-on-legacy-side', fields: differing };
  if (fresh === undefined) return { id, kind: 'missing-on-new-side', fields: differing };
  return Object.keys(differing).length > 0 ? { id, kind: 'different', fields: differing } : undefined;
}

/**
 * A compact set of ids (48 bits of SHA-1 each, 8 bytes per id): the legacy ids a pass has seen,
 * so that the new side's extra rows can be found without keeping the ids themselves. A
 * new-side id is wrongly taken as seen with probability size / 2^48 (3.6e-9 per extra row at a
 * million rows).
 */
export class IdHashSet {
  private hashes = new Float64Array(1024);
  private size = 0;
  private sorted = true;

  static hash(id: string): number {
    return createHash('sha1').update(id).digest().readUIntBE(0, 6);
  }

  add(id: string): void {
    if (this.size === this.hashes.length) {
      const grown = new Float64Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[this.size++] = IdHashSet.hash(id);
    this.sorted = false;
  }

  has(id: string): boolean {
    if (!this.sorted) {
      this.hashes = this.hashes.slice(0, this.size).sort();
      this.sorted = true;
    }
    const h = IdHashSet.hash(id);
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.hashes[mid]!;
      if (v === h) return true;
      if (v < h) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

/**
 * Row sampling by global id: a row is in the sample when SHA-1(seed, id) falls in the first
 * `fraction` of the hash space. Both sides select the same ids, a row's membership does not
 * depend on the order rows are read, and the same seed selects the same rows again.
 */
export function sampleSelector(fraction: number, seed: string): (id: string) => boolean {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`sample fraction must be in (0, 1], got ${fraction}`);
  if (fraction === 1) return () => true;
  const limit = fraction * 2 ** 32;
  return (id) => createHash('sha1').update(`${seed}\u0000${id}`).digest().readUInt32BE(0) < limit;
}

/**
 * The instant of a legacy timestamp value as normalised by the capture source (ISO-8601; a
 * timestamp without time zone is taken as UTC), or undefined for null and non-timestamps.
 */
export function timestampOf(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const text = value.length === 10 ? `${value}T00:00:00Z` : /(Z|[+-]\d{2}(:?\d{2})?)$/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The differences still present after a re-check: a row that changed in flight (its difference
 * went away, or it now differs in another way that is also gone later) is not reported. Keeps
 * the ids in both lists, with the latest values.
 */
export function persistent(previous: readonly RowDifference[], latest: readonly RowDifference[]): RowDifference[] {
  const before = new Set(previous.map((d) => d.id));
  return latest.filter((d) => before.has(d.id));
}
