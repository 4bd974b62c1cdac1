import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import { bisect, bucketOf, canonicalValue, diffRows, persistent, RangeSummary, rowDigest, type FieldValues } from '../../../apps/sync-ctl/src/verify/reconcile';
import { repairRecords } from '../../../apps/sync-ctl/src/verify/verify-repair';

const FIELDS = ['name', 'city'];

function summary(rows: Array<[string, FieldValues]>, bits = 6): RangeSummary {
  const s = new RangeSummary(bits);
  for (const [id, values] of rows) s.add(id, rowDigest({ id, values }, FIELDS));
  return s;
}

function rows(n: number): Array<[string, FieldValues]> {
  return Array.from({ length: n }, (_, i) => [`id-${i}`, { name: `n${i}`, city: `c${i % 7}` }]);
}

describe('verify: canonical values', () => {
  it('makes both drivers agree on numbers, decimals, dates, booleans and JSON', () => {
    assert.equal(canonicalValue('19.90'), '19.9');
    assert.equal(canonicalValue(19.9), '19.9');
    assert.equal(canonicalValue('19.00'), '19');
    assert.equal(canonicalValue('2026-12-06T22:16:47.6991Z'), canonicalValue(new Date('2026-12-06T22:16:47.699Z')), 'a mapped timestamp with microseconds equals the driver\'s Date');
    assert.equal(canonicalValue(19), '19');
    assert.equal(canonicalValue('01234'), '01234', 'leading zeros of a code are kept');
    assert.equal(canonicalValue(new Date('2026-01-02T03:04:05.678Z')), '2026-01-02T03:04:05.678Z');
    assert.equal(canonicalValue(true), 'true');
    assert.equal(canonicalValue(null), null);
    assert.equal(canonicalValue(undefined), null);
    assert.equal(canonicalValue(''), '', 'empty text is not null');
    assert.equal(canonicalValue({ b: 1, a: [1, 'x'] }), canonicalValue({ a: [1, 'x'], b: 1 }));
  });
});

describe('verify: range summaries and bisection', () => {
  it('finds no differing range when both sides hold the same rows, whatever the order', () => {
    const a = summary(rows(500));
    const b = summary(rows(500).reverse());
    const result = bisect(a, b);
    assert.deepEqual(result.ranges, []);
    assert.equal(result.comparisons, 1, 'one comparison of the whole span is enough');
    assert.equal(a.total(), 500);
  });

  it('bisects to exactly the ranges of a changed, a missing and an extra row', () => {
    const legacy = rows(500);
    const fresh = rows(500).filter(([id]) => id !== 'id-17');
    fresh[100] = [fresh[100]![0], { ...fresh[100]![1], city: 'elsewhere' }];
    fresh.push(['id-extra', { name: 'x', city: 'y' }]);
    const { ranges, comparisons } = bisect(summary(legacy), summary(fresh));
    const expected = [...new Set(['id-17', fresh[100]![0], 'id-extra'].map((id) => bucketOf(id, 6)))].sort((x, y) => x - y);
    assert.deepEqual(ranges, expected);
    assert.ok(comparisons < 64, `bisection compares fewer spans than there are ranges (${comparisons})`);
  });

  it('notices a swap of values between two rows (same multiset of values, different rows)', () => {
    const a = summary([['a', { name: 'x', city: '1' }], ['b', { name: 'y', city: '2' }]], 0);
    const b = summary([['a', { name: 'y', city: '2' }], ['b', { name: 'x', city: '1' }]], 0);
    assert.deepEqual(bisect(a, b).ranges, [0]);
  });

  it('spreads ids over ranges and keeps bucketOf stable', () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 4096; i++) counts.set(bucketOf(`u${i}`, 4), (counts.get(bucketOf(`u${i}`, 4)) ?? 0) + 1);
    assert.equal(counts.size, 16);
    assert.ok(Math.min(...counts.values()) > 150, 'no range is nearly empty');
    assert.equal(bucketOf('same id', 10), bucketOf('same id', 10));
    assert.equal(bucketOf('anything', 0), 0);
    assert.throws(() => new RangeSummary(21), /0\.\.20/);
  });
});

describe('verify: row differences and re-checks', () => {
  const legacy = new Map<string, FieldValues>([
    ['a', { name: 'Ada', city: 'X' }],
    ['b', { name: 'Bob', city: 'Y' }],
    ['c', { name: 'Cy', city: null }],
  ]);
  const fresh = new Map<string, FieldValues>([
    ['a', { name: 'Ada', city: 'X' }],
    ['b', { name: 'Bob', city: 'Z' }],
    ['d', { name: 'Dee', city: 'W' }],
  ]);

  it('names missing, extra and different rows with the differing fields', () => {
    assert.deepEqual(diffRows(legacy, fresh, FIELDS), [
      { id: 'b', kind: 'different', fields: { city: { legacy: 'Y', new: 'Z' } } },
      { id: 'c', kind: 'missing-on-new-side', fields: { name: { legacy: 'Cy', new: null }, city: { legacy: null, new: null } } },
      { id: 'd', kind: 'missing-on-legacy-side', fields: { name: { legacy: null, new: 'Dee' }, city: { legacy: null, new: 'W' } } },
    ]);
  });

  it('reports only differences still present at the re-check', () => {
    const first = diffRows(legacy, fresh, FIELDS);
    const settled = new Map(fresh);
    settled.set('b', { name: 'Bob', city: 'Y' });
    const latest = diffRows(legacy, settled, FIELDS);
    assert.deepEqual(persistent(first, latest).map((d) => d.id), ['c', 'd']);
    assert.deepEqual(persistent([], latest), [], 'a row that only differs now was in flight');
  });
});

describe('verify: repair records', () => {
  const pipeline = parsePipeline(
    'version: 1\nsystems:\n  crm:\n    dialect: postgres\n    connection: { url: { env: X } }\n    tables:\n      - name: users\n        key: [id]\n',
    'test',
  );
  const table = pipeline.systems.get('crm')!.tables[0]!;

  it('re-emits present rows as op r and gone rows as deletes, with ids that repeat for the same content', () => {
    const diffs = [
      { id: 'g1', kind: 'different' as const, fields: {}, legacyKey: { id: 1 }, legacyRow: { id: 1, name: 'Ada' } },
      { id: 'g2', kind: 'missing-on-legacy-side' as const, fields: {}, legacyKey: { id: 2 }, legacyRow: null },
      { id: 'g3', kind: 'missing-on-legacy-side' as const, fields: {}, legacyKey: null, legacyRow: null },
    ];
    const plan = repairRecords(table, diffs, 1_000);
    assert.equal(plan.reemitted, 1);
    assert.equal(plan.deletes, 1);
    assert.deepEqual(plan.notRepairable, ['g3']);
    assert.deepEqual(plan.records.map((r) => [r.topic, r.key]), [
      ['legacy.crm.public.users', '{"id":1}'],
      ['legacy.crm.public.users', '{"id":2}'],
    ]);
    const first = JSON.parse(String(plan.records[0]!.value)) as { op: string; after: unknown; source: { position: string } };
    assert.equal(first.op, 'r');
    assert.deepEqual(first.after, { id: 1, name: 'Ada' });
    assert.equal(plan.records[0]!.headers!['origin'], 'legacy:crm');
    assert.equal(plan.records[0]!.headers!['event-id'], `crm.public.users:${first.source.position}`);
    const again = repairRecords(table, diffs, 2_000);
    assert.deepEqual(again.records.map((r) => r.headers!['event-id']), plan.records.map((r) => r.headers!['event-id']));
    const changed = repairRecords(table, [{ ...diffs[0]!, legacyRow: { id: 1, name: 'Ada L.' } }], 1_000);
    assert.notEqual(changed.records[0]!.headers!['event-id'], plan.records[0]!.headers!['event-id']);
  });
});
