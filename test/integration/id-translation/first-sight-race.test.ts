import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { connectKeymap, createKeymapDataSource, KeymapRepository, legacyGlobalId, TableIndex, type LocalKeyRef } from '@sync/keymap';
import type { InboundMessage } from '@sync/kafka';
import type { DataSource } from 'typeorm';
import { LegacyTranslator } from '../../../apps/id-translation/src/legacy.translator';
import { createDatabase, pipeline } from './translation-harness';
import { waitFor } from '../../support/wait-for';

// First sight stores a batch's new keys with one INSERT ... ON CONFLICT DO NOTHING RETURNING that
// also reads the ids stored before it (KeymapRepository.claimEntries). Replicas must still agree on
// every id: whoever stored a key first wins, including a key stored while the statement runs.
const PIPELINE = pipeline(`
version: 1
systems:
  crm:
    dialect: postgres
    connection: { host: db, database: crm }
    tables:
      - name: customers
        key: [id]
        merge: { group: person, on: [email] }
      - name: orders
        key: [id]
        foreignKeys: [{ columns: [customer_id], references: { table: customers, columns: [id] } }]
`);

let position = 0;
function message(table: 'customers' | 'orders', after: Record<string, unknown>): InboundMessage {
  const value = { op: 'r', before: null, after, source: { system: 'crm', schema: 'public', table, position: String(++position), committedAt: '2025-01-01T00:00:00Z', txId: null }, ts_ms: 1 };
  return { topic: `legacy.crm.public.${table}`, partition: 0, offset: String(position), key: null, value: Buffer.from(JSON.stringify(value)), headers: {}, timestamp: '0' };
}

const ids = (records: ReadonlyArray<{ value: unknown }>): Array<{ globalId: string; references: Record<string, string | null> }> =>
  records.map((r) => {
    const { globalId, references } = JSON.parse(String(r.value)) as { globalId: string; references: Record<string, string | null> };
    return { globalId, references };
  });

describe('id-translation first sight: replicas racing on the same keys (real PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let one: DataSource;
  let two: DataSource;
  let admin: Client;

  before(async () => {
    database = await createDatabase('it_first_sight');
    one = createKeymapDataSource(database.url, { poolSize: 2 });
    two = createKeymapDataSource(database.url, { poolSize: 2 });
    await connectKeymap(one);
    await connectKeymap(two);
    admin = new Client({ connectionString: database.url });
    await admin.connect();
  });

  after(async () => {
    await admin?.end();
    await one?.destroy();
    await two?.destroy();
    await database?.drop();
  });

  it('two translators translating the same new keys at once attach the same ids, the ones the key map stores', async () => {
    const index = new TableIndex(PIPELINE);
    // One without merge waits (no lookup before the insert) and one with (looks up first): both paths race.
    const a = new LegacyTranslator(index, new KeymapRepository(one), 10_000);
    const b = new LegacyTranslator(index, new KeymapRepository(two), 10_000, undefined, { mergeWaitMs: 60_000 });
    for (let round = 0; round < 20; round++) {
      const batch: InboundMessage[] = [];
      for (let i = 0; i < 100; i++) {
        const id = round * 1000 + i;
        // Every 10 customers share an e-mail address: the first stored takes the merge id, the others keep their own.
        batch.push(message('customers', { id, email: `p${round}-${Math.floor(i / 10)}@x` }));
        batch.push(message('orders', { id, customer_id: id }));
      }
      // Each replica reads the batch in its own order (replicas of one group would not share a
      // partition, but two pipelines, or a rebalance, can translate the same keys at once).
      const [x, y] = await Promise.all([a.translate(batch), b.translate([...batch].reverse())]);
      assert.equal(x.handled, batch.length);
      assert.equal(y.handled, batch.length);
      assert.deepEqual(ids(x.records), ids(y.records).reverse(), `round ${round}: both replicas attach the same ids`);
      const stored = await admin.query<{ local_key: string; table_ref: string; global_id: string }>(
        `SELECT table_ref, local_key, global_id FROM keymap_entry WHERE table_ref = 'public.customers' AND local_key = ANY($1::text[])`,
        [batch.filter((_, i) => i % 2 === 0).map((_, i) => `["${round * 1000 + i}"]`)],
      );
      assert.equal(stored.rowCount, 100);
      const byKey = new Map(stored.rows.map((r) => [r.local_key, r.global_id]));
      ids(x.records).forEach((keyed, i) => {
        if (i % 2 === 0) assert.equal(keyed.globalId, byKey.get(`["${round * 1000 + i / 2}"]`));
        else assert.equal(keyed.references['customer_id'], byKey.get(`["${round * 1000 + (i - 1) / 2}"]`));
      });
      assert.equal(new Set(stored.rows.map((r) => r.global_id)).size, 100, 'one id per customer row');
    }
  });

  it('a key another replica stores while the insert runs is read back: the other replica wins', async () => {
    const ref: LocalKeyRef = { system: 'crm', tableRef: 'public.customers', localKey: '["999999"]', keyValues: { id: 999999 } };
    const other = new Client({ connectionString: database.url });
    await other.connect();
    try {
      // The other replica's insert, not yet committed: ours has to wait for it on the primary key.
      await other.query('BEGIN');
      await other.query(`INSERT INTO keymap_entry (system, table_ref, local_key, key_values, global_id, origin) VALUES ($1, $2, $3, $4, 'the-other-replicas-id', 'legacy')`, [
        ref.system,
        ref.tableRef,
        ref.localKey,
        JSON.stringify(ref.keyValues),
      ]);
      const claimed = new KeymapRepository(one).claimEntries([
        { ref, globalId: legacyGlobalId(ref.system, ref.tableRef, ref.localKey), origin: 'legacy' },
        { ref: { ...ref, localKey: '["999998"]', keyValues: { id: 999998 } }, globalId: legacyGlobalId(ref.system, ref.tableRef, '["999998"]'), origin: 'legacy' },
      ]);
      await waitFor(
        'our insert waiting for the other replica',
        async () => (await admin.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO keymap_entry%'`)).rowCount === 1,
        10_000,
      );
      // Committed after our statement's snapshot was taken: neither inserted nor visible to it.
      await other.query('COMMIT');
      const ids_ = await claimed;
      assert.equal(ids_.get('crm\u0000public.customers\u0000["999999"]'), 'the-other-replicas-id');
      assert.equal(ids_.get('crm\u0000public.customers\u0000["999998"]'), legacyGlobalId('crm', 'public.customers', '["999998"]'));
    } finally {
      await other.end();
    }
  });
});
