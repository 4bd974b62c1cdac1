import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareOrders, compareUsers, countCheck, findDuplicateWrites, type AuditWrite, type LegacyUserRow, type ServiceUserRow } from '../../../scripts/faults/checks';
import { WorkloadModel } from '../../../scripts/faults/workload';

function model(): WorkloadModel {
  const m = new WorkloadModel();
  m.legacyUsers.set(1, { id: 1, name: 'L1', email: 'l1@x', street: '1 Legacy Lane', city: 'A', zip: '00001' });
  m.legacyUsers.set(2, { id: 2, name: 'L2', email: 'l2@x', street: '2 Legacy Lane', city: 'B', zip: '00002' });
  m.newUsers.set('g-s1', { globalId: 'g-s1', name: 'S1', email: 's1@x', street: '1 Service Way', city: 'C', zip: '10001' });
  m.orders.set(10, { id: 10, userId: 1, total: '5.25' });
  return m;
}

const legacyRows = (): LegacyUserRow[] => [
  { id: 1, name: 'L1', email: 'l1@x', street: '1 Legacy Lane', city: 'A', zip: '00001' },
  { id: 2, name: 'L2', email: 'l2@x', street: '2 Legacy Lane', city: 'B', zip: '00002' },
  { id: 7, name: 'S1', email: 's1@x', street: '1 Service Way', city: 'C', zip: '10001' },
];
const serviceRows = (): ServiceUserRow[] => [
  { id: 'g-l1', name: 'L1', email: 'l1@x', street: '1 Legacy Lane', city: 'A', zip: '00001' },
  { id: 'g-l2', name: 'L2', email: 'l2@x', street: '2 Legacy Lane', city: 'B', zip: '00002' },
  { id: 'g-s1', name: 'S1', email: 's1@x', street: '1 Service Way', city: 'C', zip: '10001' },
];

describe('faults: final state against the model', () => {
  it('finds nothing when both databases hold what the workload made', () => {
    assert.deepEqual(compareUsers(model(), legacyRows(), serviceRows()), []);
    assert.deepEqual(compareOrders(model(), [{ id: 10, user_id: 1, total: '5.25' }], [{ id: 'g-o10', user_id: 'g-l1', total: '5.25' }], serviceRows()), []);
  });

  it('names a lost legacy change, a lost write-back, a duplicated insert and a row that should be gone', () => {
    const legacy = legacyRows();
    legacy[2] = { ...legacy[2]!, street: 'old street' }; // the new side's move never reached legacy
    legacy.push({ id: 8, name: 'S1', email: 's1@x', street: '1 Service Way', city: 'C', zip: '10001' }); // inserted twice
    legacy.push({ id: 9, name: 'L99', email: null, street: null, city: null, zip: null }); // deleted on the model's side
    const service = serviceRows().filter((r) => r.name !== 'L2'); // legacy user 2 never arrived
    const diffs = compareUsers(model(), legacy, service);
    const summary = diffs.map((d) => `${d.side}/${d.owner}/${d.kind}/${d.key}`).sort();
    assert.deepEqual(summary, ['legacy/new/different/name S1', 'legacy/new/duplicate-row/name S1', 'legacy/none/unexpected/id 9', 'new-side/legacy/missing/name L2']);
    assert.match(diffs.find((d) => d.kind === 'different')!.detail, /street: expected "1 Service Way", found "old street"/);
  });

  it('checks orders on both sides, the user as the global id of the user of that name', () => {
    const diffs = compareOrders(model(), [{ id: 10, user_id: 2, total: '5.25' }], [{ id: 'g-o10', user_id: 'g-l2', total: '5.25' }, { id: 'g-o11', user_id: 'g-l1', total: '9.99' }], serviceRows());
    assert.deepEqual(diffs.map((d) => `${d.side}/${d.kind}`).sort(), ['legacy/different', 'new-side/different', 'new-side/unexpected']);
    const missing = compareOrders(model(), [], [], serviceRows());
    assert.deepEqual(missing.map((d) => `${d.side}/${d.kind}`).sort(), ['legacy/missing', 'new-side/missing']);
  });
});

let seq = 0;
function write(w: Partial<AuditWrite> & Pick<AuditWrite, 'op'>): AuditWrite {
  return { seq: ++seq, tx: String(seq), table: 'users', rowId: 7, oldName: null, newName: null, oldEmail: null, newEmail: null, oldStreet: null, newStreet: null, ...w };
}

describe('faults: legacy rows written twice', () => {
  const clean = (): AuditWrite[] => [
    write({ op: 'INSERT', newName: 'S1', newEmail: 's1@x' }),
    write({ op: 'UPDATE', oldName: 'S1', newName: 'S1', oldEmail: 's1@x', newEmail: 's1@x', oldStreet: null, newStreet: '1 Service Way' }),
    write({ op: 'UPDATE', oldName: 'S1', newName: 'S1', oldEmail: 's1@x', newEmail: 's9@x', oldStreet: '1 Service Way', newStreet: '1 Service Way' }),
    write({ op: 'DELETE', oldName: 'S1', oldEmail: 's9@x', oldStreet: '1 Service Way' }),
  ];

  it('finds none in a history where every write brought a value of its own', () => {
    assert.deepEqual(findDuplicateWrites(clean()), []);
  });

  it('finds a command re-applied after being overwritten, a redelivered command written again, a second insert, a write after the delete and any write to orders', () => {
    const history = clean().slice(0, 3);
    history.push(write({ op: 'UPDATE', oldName: 'S1', newName: 'S1', oldEmail: 's9@x', newEmail: 's1@x', oldStreet: '1 Service Way', newStreet: '1 Service Way' }));
    history.push(write({ op: 'UPDATE', oldName: 'S1', newName: 'S1', oldEmail: 's1@x', newEmail: 's1@x', oldStreet: '1 Service Way', newStreet: '1 Service Way' }));
    history.push(write({ op: 'INSERT', rowId: 8, newName: 'S1', newEmail: 's2@x' }));
    history.push(write({ op: 'DELETE', oldName: 'S1' }), write({ op: 'DELETE', oldName: 'S1' }));
    history.push(write({ op: 'UPDATE', oldName: 'S1', newName: 'S1', oldEmail: 's2@x', newEmail: 's3@x' }));
    history.push(write({ op: 'UPDATE', table: 'orders', rowId: 10 }));
    const kinds = findDuplicateWrites(history).map((d) => d.kind).sort();
    assert.deepEqual(kinds, ['deleted-twice', 'inserted-twice', 'unexpected-table', 'value-written-twice', 'write-after-delete', 'write-without-new-value']);
  });

  it('compares counts exactly', () => {
    assert.equal(countCheck('x', 3, 3, '').ok, true);
    assert.equal(countCheck('x', 3, 4, '').ok, false);
  });
});
