import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectKeymap, createKeymapDataSource, KeymapReadModel, KeymapRepository, refId, type LocalKeyRef } from '@sync/keymap';
import type { DataSource } from 'typeorm';
import { LegacyDatabase } from '../../support/legacy-database';

// The read model sync-ctl uses (ids, status, verify) against a real, migrated key map.
describe('KeymapReadModel (real PostgreSQL)', () => {
  let db: LegacyDatabase;
  let ds: DataSource;
  let model: KeymapReadModel;
  const user42: LocalKeyRef = { system: 'crm', tableRef: 'public.users', localKey: '["42"]', keyValues: { id: 42 } };
  const user7: LocalKeyRef = { system: 'crm', tableRef: 'public.users', localKey: '["7"]', keyValues: { id: 7 } };
  const erpUser: LocalKeyRef = { system: 'erp', tableRef: 'dbo.people', localKey: '["A1"]', keyValues: { code: 'A1' } };

  before(async () => {
    db = await LegacyDatabase.create('keymap_read');
    ds = createKeymapDataSource(db.url, { poolSize: 2 });
    await connectKeymap(ds);
    const repo = new KeymapRepository(ds);
    await repo.insertEntries([
      { ref: user42, globalId: 'g-42', origin: 'legacy' },
      { ref: user7, globalId: 'g-7', origin: 'allocated' },
      { ref: erpUser, globalId: 'g-42', origin: 'merge' },
    ]);
    await repo.withWritebackLock((tx) =>
      tx.park(
        ['c1', 'c2'].map((commandId, i) => ({
          commandId,
          system: 'crm',
          tableRef: 'public.orders',
          globalId: `o-${i}`,
          waitingOn: ['g-x'],
          reason: 'customer has no legacy key yet',
          sourceTopic: 'writeback.crm.public.orders',
          sourcePartition: 0,
          sourceOffset: String(i),
          messageKey: null,
          messageValue: '{}',
          headers: {},
        })),
      ),
    );
    model = new KeymapReadModel(ds);
  });

  after(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('finds global ids by local key, leaving unknown keys out', async () => {
    const unknown: LocalKeyRef = { ...user42, localKey: '["999"]', keyValues: { id: 999 } };
    const found = await model.globalIds([user42, erpUser, unknown]);
    assert.deepEqual(found, new Map([[refId(user42), 'g-42'], [refId(erpUser), 'g-42']]));
    assert.deepEqual(await model.globalIds([]), new Map());
  });

  it('gives legacy key values of global ids in one table', async () => {
    assert.deepEqual(await model.legacyKeys('crm', 'public.users', ['g-42', 'g-7', 'g-none']), new Map([['g-42', { id: 42 }], ['g-7', { id: 7 }]]));
  });

  it('looks entries up by local key and by global id (every system, or one)', async () => {
    assert.deepEqual(await model.entriesOfKey('crm', 'public.users', '["7"]'), [{ system: 'crm', tableRef: 'public.users', keyValues: { id: 7 }, globalId: 'g-7', origin: 'allocated' }]);
    assert.deepEqual((await model.entriesOfGlobalId('g-42')).map((e) => `${e.system} ${e.tableRef} ${e.origin}`), ['crm public.users legacy', 'erp dbo.people merge']);
    assert.deepEqual((await model.entriesOfGlobalId('g-42', 'erp')).map((e) => e.system), ['erp']);
    assert.deepEqual(await model.entriesOfGlobalId('g-none'), []);
  });

  it('counts parked commands per table', async () => {
    assert.deepEqual(await model.parkedPerTable(), new Map([['crm.public.orders', 2]]));
  });
});
