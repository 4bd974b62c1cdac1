import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import type { InboundMessage } from '@sync/kafka';
import { legacyGlobalId, mergeGlobalId, refId, TableIndex, type KeymapRepository, type LocalKeyRef, type NewEntry } from '@sync/keymap';
import { LegacyTranslator } from '../../../apps/id-translation/src/legacy.translator';

const PIPELINE = parsePipeline(
  `
version: 1
systems:
  a:
    dialect: postgres
    connection: { host: db, database: a }
    tables:
      - name: customers
        key: [id]
        merge: { group: person, on: [email] }
      - name: orders
        key: [id]
        foreignKeys:
          - columns: [customer_id]
            references: { table: customers, columns: [id] }
`,
  'unit.yaml',
);

/** The key map as a Map: what the translator reads and inserts (ON CONFLICT DO NOTHING). */
function memoryRepository(): { repository: KeymapRepository; entries: Map<string, string> } {
  const entries = new Map<string, string>();
  const repository = {
    findGlobalIds: async (refs: readonly LocalKeyRef[]) => new Map(refs.flatMap((r) => (entries.has(refId(r)) ? [[refId(r), entries.get(refId(r))!] as const] : []))),
    insertEntries: async (items: readonly NewEntry[]) => {
      for (const e of items) if (!entries.has(refId(e.ref)) && ![...entries.values()].includes(e.globalId)) entries.set(refId(e.ref), e.globalId);
    },
  } as unknown as KeymapRepository;
  return { repository, entries };
}

let offset = 0;
function message(table: string, row: Record<string, unknown>): InboundMessage {
  const value = { op: 'r', before: null, after: row, source: { system: 'a', schema: 'public', table, position: String(++offset), committedAt: '2025-01-01T00:00:00Z', txId: null }, ts_ms: 1 };
  return { topic: `legacy.a.public.${table}`, partition: 0, offset: String(offset), key: null, value: Buffer.from(JSON.stringify(value)), headers: {}, timestamp: '0' };
}

const reference = (record: { value: unknown }) => (JSON.parse(String(record.value)) as { references: Record<string, string | null> }).references['customer_id'];

describe('id-translation: legacy events wait for the merge-table rows they name', () => {
  it('holds an order back until its customer was seen, so the customer keeps its merge id', async () => {
    const { repository, entries } = memoryRepository();
    const translator = new LegacyTranslator(new TableIndex(PIPELINE), repository, 100, undefined, { mergeWaitMs: 60_000 });
    const first = await translator.translate([message('orders', { id: 1, customer_id: 5 }), message('orders', { id: 2, customer_id: 6 })]);
    assert.equal(first.handled, 0);
    assert.equal(first.waitingFor?.localKey, '["5"]');
    assert.equal(entries.size, 0, 'nothing stored for the customer from its key alone');

    assert.equal((await translator.translate([message('customers', { id: 5, email: 'Ada@x' })])).handled, 1);
    const second = await translator.translate([message('orders', { id: 1, customer_id: 5 }), message('orders', { id: 2, customer_id: 6 })]);
    assert.equal(second.handled, 1, 'the first order goes, the second still waits for customer 6');
    assert.equal(reference(second.records[0]!), mergeGlobalId('person', '["ada@x"]'));
  });

  it('stops waiting after mergeWaitMs in one stretch; the row then gets its key-based id', async () => {
    const { repository } = memoryRepository();
    let now = 1_000;
    const translator = new LegacyTranslator(new TableIndex(PIPELINE), repository, 0, undefined, { mergeWaitMs: 5_000, now: () => now });
    const order = message('orders', { id: 1, customer_id: 7 });
    assert.equal((await translator.translate([order])).handled, 0);
    now += 4_999;
    assert.equal((await translator.translate([order])).handled, 0);
    now += 1;
    const late = await translator.translate([order]);
    assert.equal(late.handled, 1);
    assert.equal(reference(late.records[0]!), legacyGlobalId('a', 'public.customers', '["7"]'));

    // A batch with nothing to wait for ends the stretch: the next wait has its full time again.
    assert.equal((await translator.translate([message('orders', { id: 2, customer_id: 7 })])).handled, 1);
    now += 60_000;
    assert.equal((await translator.translate([message('orders', { id: 3, customer_id: 8 })])).handled, 0);
  });

  it('never waits with mergeWaitMs 0 (the behaviour without waiting)', async () => {
    const { repository } = memoryRepository();
    const translator = new LegacyTranslator(new TableIndex(PIPELINE), repository, 0, undefined, { mergeWaitMs: 0 });
    assert.equal((await translator.translate([message('orders', { id: 1, customer_id: 9 })])).handled, 1);
  });
});
