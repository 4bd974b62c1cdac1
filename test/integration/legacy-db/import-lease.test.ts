import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import { createImportLeaseStore, createLegacyDb, type ImportLeaseStore, type LegacyDb } from '@sync/legacy-db';
import { LegacyDatabase } from '../../support/legacy-database';

// The fencing store of legacy-import replicas on a real PostgreSQL (docs/legacy-import.md "Replicas").
describe('import lease store (PostgreSQL)', () => {
  let legacy: LegacyDatabase;
  let db: LegacyDb;
  let store: ImportLeaseStore;

  before(async () => {
    legacy = await LegacyDatabase.create('it_lease');
    const pipeline = parsePipeline(`version: 1\nsystems:\n  crm:\n    dialect: postgres\n    syncSchema: sync_leases\n    connection:\n      url: { env: X }\n    tables:\n      - name: users\n        key: [id]\n`, 'test');
    db = createLegacyDb({ system: 'crm', dialect: 'postgres', url: { reveal: () => legacy.url }, poolSize: 4 }, () => undefined);
    store = createImportLeaseStore(db, pipeline.systems.get('crm')!);
    await store.ensureTable();
    await store.ensureTable(); // idempotent
  });

  after(async () => {
    await db?.close();
    await legacy?.drop();
  });

  it('starts a unit at epoch 1 with no state; each takeover increments the epoch and returns the last saved state', async () => {
    assert.equal(await store.currentEpoch('crm.public.users'), undefined);
    assert.deepEqual(await store.takeOver('crm.public.users', 'a'), { epoch: 1, state: null });
    assert.equal(await store.saveState('crm.public.users', 1, 'S1'), true);
    assert.deepEqual(await store.takeOver('crm.public.users', 'b'), { epoch: 2, state: 'S1' });
    assert.equal(await store.currentEpoch('crm.public.users'), 2);
  });

  it('fences the previous owner: its save changes nothing and answers false', async () => {
    const { epoch } = await store.takeOver('crm.public.orders', 'a');
    await store.takeOver('crm.public.orders', 'b');
    assert.equal(await store.saveState('crm.public.orders', epoch, 'from the zombie'), false);
    assert.equal(await store.saveState('crm.public.orders', epoch + 1, 'from the owner'), true);
    assert.deepEqual(await store.takeOver('crm.public.orders', 'c'), { epoch: epoch + 2, state: 'from the owner' });
    const rows = await legacy.exec<{ owner: string }>(`SELECT owner FROM sync_leases.import_lease WHERE entity = 'crm.public.orders'`);
    assert.equal(rows[0]!.owner, 'c');
  });

  it('gives concurrent takeovers distinct epochs: exactly one of them is current', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.takeOver('crm.public.items', `r${i}`)));
    const epochs = results.map((r) => r.epoch).sort((a, b) => a - b);
    assert.deepEqual(epochs, [1, 2, 3, 4, 5, 6, 7, 8]);
    const saves = await Promise.all(results.map((r) => store.saveState('crm.public.items', r.epoch, `by ${r.epoch}`)));
    assert.equal(saves.filter(Boolean).length, 1);
  });
});
