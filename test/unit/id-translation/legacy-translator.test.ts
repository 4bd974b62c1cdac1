import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import type { InboundMessage } from '@sync/kafka';
import { legacyGlobalId, refId, TableIndex, type KeymapRepository, type LocalKeyRef, type NewEntry } from '@sync/keymap';
import { mergeGlobalId } from '../../../libs/keymap/src/global-id';
import { LegacyTranslator } from '../../../apps/id-translation/src/legacy.translator';
import { ChangeHeaders, DebeziumEnvelopeEncoder } from '@sync/contracts';

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
    claimEntries: async (items: readonly NewEntry[]) => {
      for (const e of items) if (!entries.has(refId(e.ref)) && ![...entries.values()].includes(e.globalId)) entries.set(refId(e.ref), e.globalId);
      return new Map(items.flatMap((e) => (entries.has(refId(e.ref)) ? [[refId(e.ref), entries.get(refId(e.ref))!] as const] : [])));
    },
    moveKey: async (from: LocalKeyRef, to: LocalKeyRef) => {
      const id = entries.get(refId(from));
      if (id === undefined || entries.has(refId(to))) return undefined;
      entries.delete(refId(from));
      entries.set(refId(to), id);
      return id;
    },
  } as unknown as KeymapRepository;
  return { repository, entries };
}

let offset = 0;
function message(table: string, row: Record<string, unknown>, op = 'r', before: Record<string, unknown> | null = null, headers: Record<string, string> = {}): InboundMessage {
  const value = { op, before, after: op === 'd' ? null : row, source: { system: 'a', schema: 'public', table, position: String(++offset), committedAt: '2025-01-01T00:00:00Z', txId: null }, ts_ms: 1 };
  if (op === 'd') value.before = row;
  return { topic: `legacy.a.public.${table}`, partition: 0, offset: String(offset), key: null, value: Buffer.from(JSON.stringify(value)), headers, timestamp: '0' };
}

/** The two records legacy-import publishes for `UPDATE ... SET id = to WHERE id = from`. */
function keyMove(table: string, before: Record<string, unknown>, after: Record<string, unknown>): { oldEnd: InboundMessage; newEnd: InboundMessage } {
  return {
    oldEnd: message(table, before, 'd', null, { '__debezium.newkey': JSON.stringify({ id: after['id'] }) }),
    newEnd: message(table, after, 'c', null, { '__debezium.oldkey': JSON.stringify({ id: before['id'] }) }),
  };
}

const keyed = (record: { value: unknown }) => JSON.parse(String(record.value)) as { op: string; globalId: string; references: Record<string, string | null> };

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

describe('id-translation: a primary-key update keeps the global id', () => {
  const customers = (id: number): string => refId({ system: 'a', tableRef: 'public.customers', localKey: `["${id}"]` });

  it('the delete of the old key moves the id; the create under the new key is an update of the same aggregate', async () => {
    const { repository, entries } = memoryRepository();
    const translator = new LegacyTranslator(new TableIndex(PIPELINE), repository, 100, undefined, { rekeyWaitMs: 60_000 });
    const [created] = (await translator.translate([message('customers', { id: 5, email: 'ada@x' })])).records;
    const id = keyed(created!).globalId;
    const move = keyMove('customers', { id: 5, email: 'ada@x' }, { id: 9, email: 'ada@x' });
    const oldEnd = await translator.translate([move.oldEnd]);
    assert.deepEqual([oldEnd.handled, oldEnd.records.length], [1, 0], 'the delete publishes nothing: the row lives on');
    assert.equal(entries.get(customers(9)), id);
    assert.equal(entries.has(customers(5)), false);
    const newEnd = await translator.translate([move.newEnd]);
    assert.deepEqual(newEnd.records.map((r) => [keyed(r).op, keyed(r).globalId]), [['u', id]]);
  });

  it('a create read before its delete waits rekeyWaitMs for it, then makes the move itself', async () => {
    const { repository, entries } = memoryRepository();
    let now = 0;
    const translator = new LegacyTranslator(new TableIndex(PIPELINE), repository, 100, undefined, { rekeyWaitMs: 5_000, now: () => now });
    const id = keyed((await translator.translate([message('customers', { id: 5, email: 'ada@x' })])).records[0]!).globalId;
    const move = keyMove('customers', { id: 5, email: 'ada@x' }, { id: 9, email: 'ada@x' });
    assert.equal((await translator.translate([move.newEnd])).handled, 0, 'waits for the old key partition');
    assert.equal(entries.has(customers(9)), false);
    now += 5_000;
    const late = await translator.translate([move.newEnd]);
    assert.deepEqual(late.records.map((r) => [keyed(r).op, keyed(r).globalId]), [['u', id]]);
    const oldEnd = await translator.translate([move.oldEnd]);
    assert.deepEqual([oldEnd.handled, oldEnd.records.length], [1, 0]);
    assert.equal(entries.get(customers(9)), id);
  });

  it('a child that followed its parent (ON UPDATE CASCADE) waits for the parent move and points at the same id', async () => {
    const { repository } = memoryRepository();
    const translator = new LegacyTranslator(new TableIndex(PIPELINE), repository, 100, undefined, { rekeyWaitMs: 60_000 });
    const parent = keyed((await translator.translate([message('customers', { id: 5, email: 'ada@x' })])).records[0]!).globalId;
    await translator.translate([message('orders', { id: 1, customer_id: 5 })]);
    const child = message('orders', { id: 1, customer_id: 9 }, 'u', { id: 1, customer_id: 5 });
    assert.equal((await translator.translate([child])).handled, 0, 'the new parent key is not known yet');
    const move = keyMove('customers', { id: 5, email: 'ada@x' }, { id: 9, email: 'ada@x' });
    await translator.translate([move.oldEnd]);
    const after = await translator.translate([child]);
    assert.equal(after.handled, 1);
    assert.equal(keyed(after.records[0]!).references['customer_id'], parent);
  });

  it('a move inside a batch splits it: events of the old key before it keep the id, a new row under the old key gets a new one', async () => {
    const { repository } = memoryRepository();
    const translator = new LegacyTranslator(new TableIndex(PIPELINE), repository, 100, undefined, { rekeyWaitMs: 60_000 });
    const move = keyMove('orders', { id: 1, customer_id: 3 }, { id: 2, customer_id: 3 });
    const out = await translator.translate([message('orders', { id: 1, customer_id: 3 }), move.oldEnd, message('orders', { id: 1, customer_id: 4 }), move.newEnd]);
    assert.equal(out.handled, 4);
    const [first, reused, moved] = out.records.map(keyed);
    assert.equal(moved!.globalId, first!.globalId, 'order 2 is the former order 1');
    assert.equal(moved!.op, 'u');
    assert.notEqual(reused!.globalId, first!.globalId, 'the reused key 1 is another row');
  });

  it('a header that is not a key is a data error of that message', async () => {
    const { repository } = memoryRepository();
    const translator = new LegacyTranslator(new TableIndex(PIPELINE), repository, 100);
    await assert.rejects(translator.translate([message('orders', { id: 2, customer_id: 3 }, 'c', null, { '__debezium.oldkey': '{"nope":1}' })]), /__debezium.oldkey: key \[id\]/);
  });
});

describe('id-translation: key-map statements per batch', () => {
  /** The in-memory key map, counting the statements the translator sends. */
  function counting(): { repository: KeymapRepository; calls: string[] } {
    const { repository } = memoryRepository();
    const calls: string[] = [];
    const counted = new Proxy(repository, {
      get(target, name: string) {
        const method = (target as unknown as Record<string, (...args: unknown[]) => unknown>)[name];
        return (...args: unknown[]) => {
          calls.push(name);
          return method!(...args);
        };
      },
    });
    return { repository: counted, calls };
  }

  it('first sight of a batch that cannot wait is one insert-or-read statement, without a lookup first', async () => {
    const { repository, calls } = counting();
    const translator = new LegacyTranslator(new TableIndex(PIPELINE), repository, 100, undefined, { mergeWaitMs: 0, rekeyWaitMs: 60_000 });
    const out = await translator.translate([message('customers', { id: 1, email: 'a@x' }), message('orders', { id: 1, customer_id: 1 }), message('orders', { id: 2, customer_id: 1 })]);
    assert.equal(out.handled, 3);
    assert.deepEqual(calls, ['claimEntries']);
    calls.length = 0;
    await translator.translate([message('orders', { id: 2, customer_id: 1 })]);
    assert.deepEqual(calls, [], 'every key cached: no statement');
  });

  it('a batch naming a merge-table row with mergeWaitMs is looked up first, and waits for an unknown one', async () => {
    const { repository, calls } = counting();
    const translator = new LegacyTranslator(new TableIndex(PIPELINE), repository, 100, undefined, { mergeWaitMs: 60_000 });
    const out = await translator.translate([message('orders', { id: 1, customer_id: 9 })]);
    assert.equal(out.handled, 0);
    assert.deepEqual(calls, ['findGlobalIds']);
  });
});

describe('id-translation: legacy.* in Debezium format (technicalTopics.format: debezium)', () => {
  const encoder = new DebeziumEnvelopeEncoder(
    { dialect: 'postgres', system: 'a', database: 'a', schema: 'public', table: 'customers', key: ['id'], columns: [{ name: 'id', type: 'int4', nullable: false }, { name: 'email', type: 'text', nullable: true }] },
    { schemasEnable: true, tombstonesOnDelete: true },
  );
  function debezium(op: 'c' | 'd', row: Record<string, unknown>, value: string | null = null): InboundMessage {
    const headers = { [ChangeHeaders.position]: String(++offset), [ChangeHeaders.committedAt]: '2025-01-01T00:00:00Z' };
    const text = value ?? encoder.value({ op, before: op === 'd' ? row : null, after: op === 'd' ? null : row, position: String(offset), committedAt: '2025-01-01T00:00:00Z', txId: null }, 1);
    return { topic: 'legacy.a.public.customers', partition: 0, offset: String(offset), key: Buffer.from(encoder.key(row)), value: text === '' ? null : Buffer.from(text), headers, timestamp: '0' };
  }

  it('translates Debezium envelopes like native events (same global id) and skips tombstones without a dead letter', async () => {
    const native = new LegacyTranslator(new TableIndex(PIPELINE), memoryRepository().repository, 100);
    const [expected] = (await native.translate([message('customers', { id: 5, email: 'ada@x' }, 'c')])).records;
    const translator = new LegacyTranslator(new TableIndex(PIPELINE), memoryRepository().repository, 100);
    const created = debezium('c', { id: 5, email: 'ada@x' });
    const deleted = debezium('d', { id: 5, email: 'ada@x' });
    const tombstone = debezium('d', { id: 5, email: 'ada@x' }, '');
    const result = await translator.translate([created, deleted, tombstone]);
    assert.equal(result.handled, 3);
    assert.deepEqual(result.records.map((r) => [keyed(r).op, keyed(r).globalId]), [['c', keyed(expected!).globalId], ['d', keyed(expected!).globalId]]);
    assert.deepEqual((JSON.parse(String(result.records[0]!.value)) as { after: unknown }).after, { id: 5, email: 'ada@x' });
  });
});
