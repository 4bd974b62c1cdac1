import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import { canonicalValue, diffRow, persistent, type FieldValues, type RowDifference } from '../../../apps/sync-ctl/src/verify/reconcile';
import { debeziumRepairEncoding, repairRecords } from '../../../apps/sync-ctl/src/verify/verify-repair';
import { decodeChangeMessage, DebeziumEnvelopeEncoder } from '@sync/contracts';

const FIELDS = ['name', 'city'];

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

function diffRows(legacy: ReadonlyMap<string, FieldValues>, fresh: ReadonlyMap<string, FieldValues>, fields: readonly string[]): RowDifference[] {
  return [...new Set([...legacy.keys(), ...fresh.keys()])].sort().flatMap((id) => diffRow(id, legacy.get(id), fresh.get(id), fields) ?? []);
}

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

  it('in Debezium format (technicalTopics.format: debezium) writes what legacy-import writes: envelopes, a tombstone after a delete', () => {
    const encoder = new DebeziumEnvelopeEncoder(
      { dialect: 'postgres', system: 'crm', database: 'crm', schema: 'public', table: 'users', key: ['id'], columns: [{ name: 'id', type: 'int4', nullable: false }, { name: 'name', type: 'text', nullable: true }] },
      { schemasEnable: true, tombstonesOnDelete: true },
    );
    const diffs = [
      { id: 'g1', kind: 'different' as const, fields: {}, legacyKey: { id: 1 }, legacyRow: { id: 1, name: 'Ada' } },
      { id: 'g2', kind: 'missing-on-legacy-side' as const, fields: {}, legacyKey: { id: 2 }, legacyRow: null },
    ];
    const plan = repairRecords(table, diffs, 1_000, debeziumRepairEncoding(encoder));
    assert.deepEqual(plan.records.map((r) => [(JSON.parse(String(r.key)) as { payload: unknown }).payload, r.value === null ? null : (JSON.parse(String(r.value)) as { payload: { op: string } }).payload.op]), [
      [{ id: 1 }, 'r'],
      [{ id: 2 }, 'd'],
      [{ id: 2 }, null],
    ]);
    const event = decodeChangeMessage(Buffer.from(String(plan.records[0]!.value)), plan.records[0]!.headers!)!;
    assert.deepEqual([event.op, event.after, event.source.position], ['r', { id: 1, name: 'Ada' }, plan.records[0]!.headers!['sync-position']]);
    assert.match(event.source.position, /^verify:/);
  });
});
