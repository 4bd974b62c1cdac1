import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseVerify } from '../../../scripts/faults/run-checks';

describe('faults: reading sync-ctl verify --json', () => {
  it('takes each entity with its verdict and the number of differing rows', () => {
    const report = JSON.stringify([
      { entity: 'crm.public.users', name: 'users', legacyRows: 10, newRows: 10, agree: true, differences: [] },
      { entity: 'crm.public.orders', name: 'orders', legacyRows: 5, newRows: 4, agree: false, differences: [{ id: 'x', kind: 'missing-on-new-side' }] },
    ]);
    assert.deepEqual(parseVerify(report), [
      { entity: 'users', agree: true, legacyRows: 10, newRows: 10, differences: 0 },
      { entity: 'orders', agree: false, legacyRows: 5, newRows: 4, differences: 1 },
    ]);
  });

  it('reports nothing (a failed run) when verify printed no JSON', () => {
    assert.deepEqual(parseVerify(''), []);
    assert.deepEqual(parseVerify('verify: cannot connect'), []);
    assert.deepEqual(parseVerify('{"ok":false,"error":{"code":3,"kind":"unreachable","message":"key map database unreachable at db:5432/keymap: refused","command":"verify"}}'), []);
  });
});
