import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultLeaseTopic, heartbeatInterval, holdsEpoch, isLeaseLost, leaseKeyOf, LeaseLostError, unitsOfPartitions, workUnits } from '../../../apps/legacy-import/src/import-leases';

describe('legacy-import work units', () => {
  it('orders units the same way on every replica, whatever order the pipeline lists them in', () => {
    assert.deepEqual(workUnits(['crm.public.users', 'crm.public.orders', 'erp.dbo.Items', 'crm.public.orders']), ['crm.public.orders', 'crm.public.users', 'erp.dbo.Items']);
  });

  it('maps assigned partitions to units; partitions past the last unit lease nothing', () => {
    const units = ['a', 'b', 'c'];
    assert.deepEqual(unitsOfPartitions(units, [2, 0]), ['c', 'a']);
    assert.deepEqual(unitsOfPartitions(units, [3, 7, -1]), []);
    assert.deepEqual(unitsOfPartitions(units, []), [], 'a standby holds nothing');
  });

  it('leases the logical-mode tables of a system together (one slot, one connection), every other table on its own', () => {
    const tables = [
      ['crm', 'crm.public.users', 'logical'],
      ['crm', 'crm.public.orders', 'logical'],
      ['crm', 'crm.public.notes', 'trigger'],
      ['erp', 'erp.dbo.Items', 'cdc'],
    ] as const;
    const keys = tables.map(([system, entity, mode]) => leaseKeyOf(system, entity, mode));
    assert.deepEqual(keys, ['crm:logical', 'crm:logical', 'crm.public.notes', 'erp.dbo.Items']);
    assert.deepEqual(workUnits(keys), ['crm.public.notes', 'crm:logical', 'erp.dbo.Items'], 'three lease partitions for four tables');
  });

  it('derives one lease topic per pipeline from its system names, legal and bounded', () => {
    assert.equal(defaultLeaseTopic(['erp', 'crm']), 'sync.import-leases.crm.erp');
    assert.equal(defaultLeaseTopic(['crm', 'erp']), defaultLeaseTopic(['erp', 'crm', 'crm']));
    const long = defaultLeaseTopic(Array.from({ length: 30 }, (_, i) => `system_number_${i}`));
    assert.ok(long.length <= 200 && /^[A-Za-z0-9._-]+$/.test(long), long);
    assert.notEqual(long, defaultLeaseTopic(Array.from({ length: 30 }, (_, i) => `system_number_${i + 1}`)));
  });

  it('lets a unit act only at the epoch the store holds now', () => {
    assert.equal(holdsEpoch(3, 3), true);
    assert.equal(holdsEpoch(3, 4), false, 'taken over since');
    assert.equal(holdsEpoch(3, undefined), false, 'the lease row is gone');
  });

  it('says which unit was fenced, at which epochs', () => {
    const err = new LeaseLostError('crm.public.users', 3, 4);
    assert.ok(isLeaseLost(err));
    assert.ok(!isLeaseLost(new Error('x')));
    assert.match(err.message, /crm\.public\.users: lease lost \(this replica holds epoch 3, the unit is at 4\)/);
  });

  it('heartbeats three times per session timeout, at most every 3 s', () => {
    assert.equal(heartbeatInterval(6_000), 2_000);
    assert.equal(heartbeatInterval(10_000), 3_000);
    assert.equal(heartbeatInterval(60_000), 3_000);
  });
});
