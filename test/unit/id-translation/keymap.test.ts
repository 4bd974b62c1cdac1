import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import type { WritebackRequest } from '@sync/contracts';
import { canonicalKey, firstMergeWait, firstSightGlobalId, keyedEvent, keyedEventJson, legacyGlobalId, LruCache, planForward, resolveRequest, TableIndex, targetTable, type ResolveView, type TargetState } from '@sync/keymap';
import { canonicalNaturalKey } from '../../../libs/keymap/src/canonical-key';

const PIPELINE = parsePipeline(
  `
version: 1
idTranslation: { parkTimeoutMs: 5000, cacheSize: 10, groupPrefix: it_ids }
systems:
  a:
    dialect: postgres
    connection: { host: db, database: a }
    tables:
      - name: customers
        key: [id]
        generatedKey: true
        merge: { group: person, on: [email] }
      - name: invoices
        key: [id]
        allocateKeysFrom: 1000
      - name: orders
        key: [region, no]
        foreignKeys:
          - columns: [customer_id]
            references: { table: customers, columns: [id] }
      - name: lines
        key: [region, order_no, line]
        foreignKeys:
          - columns: [o_no, o_region]
            references: { table: orders, columns: [no, region] }
`,
  'unit.yaml',
);

describe('keymap: canonical keys and ids', () => {
  it('writes key values in key order as text, so 42 and "42" are the same key', () => {
    assert.equal(canonicalKey(['b', 'a'], { a: 1, b: 'x' }), '["x","1"]');
    assert.equal(canonicalKey(['id'], { id: 42 }), canonicalKey(['id'], { id: '42' }));
    assert.equal(canonicalKey(['id', 'b'], { id: 1, b: null }), undefined);
    assert.equal(canonicalNaturalKey(['email'], { email: '  Ada@Example.ORG ' }), '["ada@example.org"]');
    assert.equal(canonicalNaturalKey(['email'], { email: '  ' }), undefined);
  });

  it('derives the same global id for the same key, and different ones per system', () => {
    assert.equal(legacyGlobalId('a', 'public.customers', '["42"]'), legacyGlobalId('a', 'public.customers', '["42"]'));
    assert.notEqual(legacyGlobalId('a', 'public.customers', '["42"]'), legacyGlobalId('b', 'public.customers', '["42"]'));
    assert.match(legacyGlobalId('a', 't', 'k'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('evicts the least recently used entry', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    assert.equal(cache.get('a'), 1);
    cache.set('c', 3);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 1);
    assert.equal(cache.size, 2);
  });

  it('reads the id-translation settings and table options from the pipeline', () => {
    assert.deepEqual(PIPELINE.idTranslation, { parkTimeoutMs: 5000, mergeWaitMs: 300_000, rekeyWaitMs: 30_000, cacheSize: 10, groupPrefix: 'it_ids' });
    const customers = PIPELINE.systems.get('a')!.tables[0]!;
    assert.deepEqual(customers.merge, { group: 'person', on: ['email'] });
    assert.equal(PIPELINE.systems.get('a')!.tables[1]!.allocateKeysFrom, 1000);
    assert.throws(() => parsePipeline('version: 1\nsystems:\n  a:\n    dialect: postgres\n    connection: { host: db, database: a }\n    tables:\n      - { name: t, key: [a, b], allocateKeysFrom: 5 }\n', 'x.yaml'), /single integer column/);
  });
});

const index = new TableIndex(PIPELINE);
const source = (table: string) => ({ system: 'a', schema: 'public', table, position: '1', committedAt: '2025-01-01T00:00:00Z', txId: null });

describe('keymap: legacy to keyed', () => {
  it('plans the row key and a composite foreign key in the target key order', () => {
    const plan = planForward({ op: 'c', before: null, after: { region: 'eu', order_no: 7, line: 1, o_no: 7, o_region: 'eu' }, source: source('lines'), ts_ms: 1 }, index);
    assert.equal(plan.row.localKey, '["eu","7","1"]');
    const [fk] = plan.references;
    assert.equal(fk!.fk.name, 'o_no,o_region');
    assert.equal(fk!.ref!.localKey, '["eu","7"]', 'orders key is [region, no]');
    assert.deepEqual(fk!.ref!.keyValues, { region: 'eu', no: 7 });
    const event = keyedEvent(plan, firstSightGlobalId);
    assert.equal(event.references['o_no,o_region'], legacyGlobalId('a', 'public.orders', '["eu","7"]'));
  });

  it('uses the merge group id for a row with a natural key, and null for a null foreign key', () => {
    const plan = planForward({ op: 'c', before: null, after: { id: 1, email: 'X@y' }, source: source('customers'), ts_ms: 1 }, index);
    assert.deepEqual(plan.row.merge, { group: 'person', naturalKey: '["x@y"]' });
    const order = planForward({ op: 'd', before: { region: 'eu', no: 1, customer_id: null }, after: null, source: source('orders'), ts_ms: 1 }, index);
    assert.equal(keyedEvent(order, firstSightGlobalId).references['customer_id'], null);
  });

  it('writes the keyed event JSON byte for byte as JSON.stringify(keyedEvent(...)), without copying the event', () => {
    const plans = [
      planForward({ op: 'c', before: null, after: { region: 'eu', order_no: 7, line: 1, o_no: 7, o_region: 'eu', note: 'a "quoted" \u2028 é' }, source: source('lines'), ts_ms: 1 }, index),
      planForward({ op: 'u', before: { region: 'eu', no: 1, customer_id: 3 }, after: { region: 'eu', no: 1, customer_id: null }, source: source('orders'), ts_ms: 2 }, index),
      planForward({ op: 'd', before: { id: 1, email: 'X@y' }, after: null, source: { ...source('customers'), txId: '77' }, ts_ms: 3 }, index),
    ];
    for (const plan of plans) {
      assert.equal(keyedEventJson(plan, firstSightGlobalId(plan.row), firstSightGlobalId), JSON.stringify(keyedEvent(plan, firstSightGlobalId)));
    }
  });

  it('makes an event wait for a merge-table row it names that is neither known nor in the batch', () => {
    const order = (no: number, customer: number | null) => planForward({ op: 'r', before: null, after: { region: 'eu', no, customer_id: customer }, source: source('orders'), ts_ms: 1 }, index);
    const customer = (id: number) => planForward({ op: 'r', before: null, after: { id, email: `c${id}@x` }, source: source('customers'), ts_ms: 1 }, index);
    const line = planForward({ op: 'r', before: null, after: { region: 'eu', order_no: 9, line: 1, o_no: 9, o_region: 'eu' }, source: source('lines'), ts_ms: 1 }, index);
    const known = new Set(['["1"]']);
    const isKnown = (ref: { localKey: string }) => known.has(ref.localKey);
    assert.equal(firstMergeWait([order(1, 1), order(2, null), line], isKnown), undefined, 'known customer, null reference, and orders (no merge rule) never wait');
    const wait = firstMergeWait([order(1, 1), order(2, 5), order(3, 6)], isKnown);
    assert.equal(wait?.index, 1);
    assert.equal(wait?.ref.localKey, '["5"]');
    assert.equal(firstMergeWait([order(2, 5), customer(5)], isKnown), undefined, 'the customer itself is in the batch, later is fine');
  });

  it('rejects an event of an unknown table or with a null key', () => {
    assert.throws(() => planForward({ op: 'c', before: null, after: { id: 1 }, source: source('nope'), ts_ms: 1 }, index), /not a table of the pipeline/);
    assert.throws(() => planForward({ op: 'c', before: null, after: { id: null }, source: source('customers'), ts_ms: 1 }, index), /null or missing/);
  });
});

function view(states: Record<string, TargetState>, parked: string[] = []): ResolveView {
  return {
    state: (system, tableRef, gid) => states[`${system}|${tableRef}|${gid}`] ?? { kind: 'unknown' },
    parkedAhead: (system, tableRef, gid) => parked.includes(`${system}|${tableRef}|${gid}`),
  };
}

function request(table: string, globalId: string, columns: Record<string, unknown>, references: Record<string, string | null> = {}, op: 'upsert' | 'delete' = 'upsert'): WritebackRequest {
  return { commandId: `cmd-${globalId}`, op, system: 'a', schema: 'public', table, globalId, columns, occurredAt: '2025-01-01T00:00:00Z', origin: 'service:x', causationId: 'c', references };
}

describe('keymap: write-back resolution', () => {
  it('a request that writes other values into the key columns of a known row moves it: key = current, newKey = the new one', () => {
    const req = request('orders', 'O', { region: 'eu', no: 8, total: 3 });
    const res = resolveRequest(req, targetTable(req, index), view({ 'a|public.orders|O': { kind: 'known', key: { region: 'eu', no: 7 } } }));
    assert.ok(res.kind === 'command');
    assert.deepEqual([res.command.key, res.command.newKey, res.command.columns], [{ region: 'eu', no: 7 }, { region: 'eu', no: 8 }, { total: 3 }]);
    const same = { ...req, columns: { region: 'eu', no: '7', total: 4 } };
    const unchanged = resolveRequest(same, targetTable(same, index), view({ 'a|public.orders|O': { kind: 'known', key: { region: 'eu', no: 7 } } }));
    assert.ok(unchanged.kind === 'command' && unchanged.command.newKey === undefined, 'the same key as text is no move');
    const nulled = { ...req, columns: { no: null } };
    assert.throws(() => resolveRequest(nulled, targetTable(nulled, index), view({ 'a|public.orders|O': { kind: 'known', key: { region: 'eu', no: 7 } } })), /cannot be set to null/);
    const generated = request('customers', 'C', { id: 43, email: 'x@y' });
    const kept = resolveRequest(generated, targetTable(generated, index), view({ 'a|public.customers|C': { kind: 'known', key: { id: 42 } } }));
    assert.ok(kept.kind === 'command' && kept.command.newKey === undefined, 'a generated key is not the new side\'s to change');
  });

  it('fills a composite foreign key from the referenced row and strips key columns', () => {
    const req = request('lines', 'L', { region: 'eu', order_no: 7, line: 1, qty: 3, o_no: 999 }, { 'o_no,o_region': 'O' });
    const res = resolveRequest(req, targetTable(req, index), view({ 'a|public.lines|L': { kind: 'known', key: { region: 'eu', order_no: 7, line: 1 } }, 'a|public.orders|O': { kind: 'known', key: { region: 'us', no: 5 } } }));
    assert.equal(res.kind, 'command');
    if (res.kind !== 'command') return;
    assert.deepEqual(res.command.key, { region: 'eu', order_no: 7, line: 1 });
    assert.deepEqual(res.command.columns, { qty: 3, o_no: 5, o_region: 'us' });
    assert.equal('references' in res.command, false);
  });

  it('inserts with an empty key into a generated-key table, and parks a later command until the link', () => {
    const req = request('customers', 'C', { id: 42, email: 'x@y' });
    const first = resolveRequest(req, targetTable(req, index), view({}));
    assert.deepEqual(first.kind === 'command' && [first.insert, first.command.key, first.command.columns], ['generated', {}, { email: 'x@y' }]);
    const update = { ...req, commandId: 'cmd-2' };
    const second = resolveRequest(update, targetTable(update, index), view({ 'a|public.customers|C': { kind: 'pending', insertedBy: req.commandId } }));
    assert.deepEqual(second, { kind: 'park', waitingOn: ['C'], reason: "its own insert is waiting for the key a generates" });
    const replay = resolveRequest(req, targetTable(req, index), view({ 'a|public.customers|C': { kind: 'known', key: { id: 5 }, insertedBy: req.commandId } }));
    assert.deepEqual(replay.kind === 'command' && replay.command.key, {}, 'a replayed insert is the same insert');
  });

  it('parks a child whose parent is unknown or pending, and queues behind a parked command', () => {
    const req = request('orders', 'O', { total: 1 }, { customer_id: 'C' });
    const res = resolveRequest(req, targetTable(req, index), view({}));
    assert.equal(res.kind, 'park');
    assert.deepEqual(res.kind === 'park' && res.waitingOn, ['C']);
    const behind = resolveRequest(req, targetTable(req, index), view({ 'a|public.customers|C': { kind: 'known', key: { id: 1 } } }, ['a|public.orders|O']));
    assert.deepEqual(behind.kind === 'park' && behind.waitingOn, []);
  });

  it('allocates for allocateKeysFrom tables, takes the key from columns otherwise, skips unknown deletes', () => {
    const invoice = request('invoices', 'I', { id: 7, total: 1 });
    const res = resolveRequest(invoice, targetTable(invoice, index), view({}));
    assert.deepEqual(res.kind === 'command' && [res.insert, res.command.columns], ['allocate', { total: 1 }]);
    const order = request('orders', 'O2', { total: 1 }, { customer_id: null });
    const nulled = resolveRequest(order, targetTable(order, index), view({ 'a|public.orders|O2': { kind: 'known', key: { region: 'eu', no: 1 } } }));
    assert.deepEqual(nulled.kind === 'command' && nulled.command.columns, { total: 1, customer_id: null });
    const line = request('lines', 'L', { region: 'eu', order_no: 1, line: 2 });
    const own = resolveRequest(line, targetTable(line, index), view({}));
    assert.deepEqual(own.kind === 'command' && [own.insert, own.command.key], ['own-key', { region: 'eu', order_no: 1, line: 2 }]);
    const del = request('lines', 'L2', {}, {}, 'delete');
    assert.equal(resolveRequest(del, targetTable(del, index), view({})).kind, 'skip');
    const bad = request('lines', 'L3', { region: 'eu' });
    assert.throws(() => resolveRequest(bad, targetTable(bad, index), view({})), /does not carry key/);
  });
});
