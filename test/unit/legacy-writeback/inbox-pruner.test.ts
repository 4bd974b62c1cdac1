import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupPosition, RedeliveryHorizon } from '../../../apps/legacy-writeback/src/inbox-pruner';

const t = (s: number): Date => new Date(Date.UTC(2026, 11, 6, 10, 0, s));

describe('inbox pruner: redelivery horizon', () => {
  it('is the time of the latest observation whose end offset the group has committed', () => {
    const h = new RedeliveryHorizon();
    h.observe('resolved.crm.public.items', 0, t(0), 10n);
    h.observe('resolved.crm.public.items', 0, t(10), 15n);
    h.observe('resolved.crm.public.items', 0, t(20), 30n);
    assert.equal(h.horizon('resolved.crm.public.items', 0, 9n), undefined, 'nothing committed up to an observed end');
    assert.deepEqual(h.horizon('resolved.crm.public.items', 0, 10n), t(0));
    assert.deepEqual(h.horizon('resolved.crm.public.items', 0, 29n), t(10));
    assert.deepEqual(h.horizon('resolved.crm.public.items', 0, 30n), t(20));
    assert.equal(h.horizon('resolved.crm.public.items', 1, 100n), undefined, 'partitions are separate');
  });

  it('never moves back: an older observation it forgot is not needed again', () => {
    const h = new RedeliveryHorizon();
    h.observe('x', 0, t(0), 5n);
    h.observe('x', 0, t(5), 8n);
    assert.deepEqual(h.horizon('x', 0, 8n), t(5));
    h.observe('x', 0, t(9), 12n);
    assert.deepEqual(h.horizon('x', 0, 8n), t(5));
    assert.deepEqual(h.horizon('x', 0, 12n), t(9));
  });

  it('takes the group position as its committed offset, else the log start it would read from', () => {
    assert.equal(groupPosition('42', '0'), 42n);
    assert.equal(groupPosition('-1', '7'), 7n);
    assert.equal(groupPosition(undefined, '3'), 3n);
    assert.equal(groupPosition('2', '5'), 5n, 'a committed offset below the log start resumes at the start');
  });
});
