import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshEvents, planBatch } from '../../../examples/new-service/src/batch-plan';
import type { ServiceEvent } from '../../../examples/new-service/src/service.repository';

let seq = 0;
function ev(type: string, subject: string, data: Record<string, unknown> = {}, legacyVersion?: string): ServiceEvent {
  return { id: `e${++seq}`, type, subject, data, ...(legacyVersion !== undefined && { legacyVersion }) };
}

describe('sample new service: a batch folded into set-based writes (planBatch)', () => {
  it('keeps one write per key, the last in event order', () => {
    const plan = planBatch([
      ev('UserChanged', 'u1', { name: 'a', email: 'a@x' }),
      ev('UserChanged', 'u2', { name: 'other' }),
      ev('UserChanged', 'u1', { name: 'b', email: null }),
      ev('AddressChanged', 'u1', { street: 's1', city: 'c', zip: '1' }),
      ev('UserChanged', 'u1', { name: 'c', email: 'c@x' }),
      ev('AddressChanged', 'u1', { street: 's2', city: 'c', zip: '2' }),
    ]);
    assert.deepEqual(plan.userUpserts, [
      { id: 'u1', name: 'c', email: 'c@x', legacyVersion: null },
      { id: 'u2', name: 'other', email: null, legacyVersion: null },
    ]);
    assert.deepEqual(plan.addressUpserts, [{ userId: 'u1', street: 's2', city: 'c', zip: '2' }]);
    assert.deepEqual(plan.userDeletes, []);
    assert.equal(plan.applied.length, 6);
  });

  it('a removal then a change writes the change on a fresh row; a change then a removal deletes', () => {
    const plan = planBatch([
      ev('UserChanged', 'u1', { name: 'old' }, '5'),
      ev('UserRemoved', 'u1'),
      ev('UserChanged', 'u1', { name: 'new' }),
      ev('UserChanged', 'u2', { name: 'x' }),
      ev('AddressChanged', 'u2', { street: 's' }),
      ev('UserRemoved', 'u2'),
      ev('OrderPlaced', 'o1', { userId: 'u2', total: '1.50', placedAt: '2026-01-01T00:00:00Z' }),
      ev('OrderRemoved', 'o1'),
      ev('OrderRemoved', 'o2'),
      ev('OrderPlaced', 'o2', { userId: 'u1', total: 3, placedAt: null }),
    ]);
    // u1 is deleted first (its row starts over: no legacy version), then inserted.
    assert.deepEqual([...plan.userDeletes].sort(), ['u1', 'u2']);
    assert.deepEqual(plan.userUpserts, [{ id: 'u1', name: 'new', email: null, legacyVersion: null }]);
    assert.deepEqual(plan.userVersions, []);
    assert.deepEqual([...plan.addressDeletes].sort(), ['u1', 'u2']);
    assert.deepEqual(plan.addressUpserts, []);
    assert.deepEqual(plan.orderDeletes, ['o1']);
    assert.deepEqual(plan.orderUpserts, [{ id: 'o2', userId: 'u1', total: '3', placedAt: null }]);
  });

  it('records the legacy version as the one-by-one apply did: before a write only where the row exists, after it on the row', () => {
    const plan = planBatch([
      ev('AddressChanged', 'u1', { street: 's' }, '7'),
      ev('AddressChanged', 'u2', { street: 's' }, '8'),
      ev('UserChanged', 'u2', { name: 'n' }),
      ev('UserChanged', 'u3', { name: 'n' }, '9'),
      ev('UserRemoved', 'u4', {}, '10'),
      ev('OrderPlaced', 'o1', { total: '1' }, '11'),
    ]);
    assert.deepEqual(plan.userVersions, [
      { id: 'u1', legacyVersion: '7' },
      { id: 'u2', legacyVersion: '8' },
    ]);
    assert.deepEqual(plan.userUpserts, [
      { id: 'u2', name: 'n', email: null, legacyVersion: null },
      { id: 'u3', name: 'n', email: null, legacyVersion: '9' },
    ]);
    assert.deepEqual(plan.userDeletes, ['u4']);
  });

  it('ignores types it does not keep, and applies each event id once, only if the database had not recorded it', () => {
    const a = ev('UserChanged', 'u1', { name: 'a' });
    const b = ev('SomethingElse', 'u1');
    const c = ev('UserChanged', 'u1', { name: 'c' });
    assert.deepEqual(freshEvents([a, b, a, c], new Set([a.id, b.id])), [a, b]);
    const plan = planBatch([a, b]);
    assert.deepEqual(plan.applied, ['UserChanged']);
    assert.deepEqual(plan.userUpserts.map((u) => u.name), ['a']);
  });

  it('a batch of thousands of events on a few keys comes to one row per key', () => {
    const events = Array.from({ length: 5000 }, (_, i) => ev('UserChanged', `u${i % 3}`, { name: `n${i}` }));
    const plan = planBatch(events);
    assert.deepEqual(
      plan.userUpserts.map((u) => [u.id, u.name]),
      [
        ['u0', 'n4998'],
        ['u1', 'n4999'],
        ['u2', 'n4997'],
      ],
    );
  });
});
