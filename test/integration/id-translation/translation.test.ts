import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseKeyedChangeEvent, parseWritebackCommand, Topics } from '@sync/contracts';
import { DLQ_HEADERS, KafkaConnection, silentLog, type SyncProducer } from '@sync/kafka';
import { legacyGlobalId } from '@sync/keymap';
import { testBrokers, uniqueName } from '../../support/test-env';
import { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { changeEvent, createDatabase, pipeline, TranslationReplica, writebackRequest } from './translation-harness';

const tag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const SRC = `src_${tag}`;
const TGT = `tgt_${tag}`;

const yaml = (groupPrefix: string, parkTimeoutMs = 600_000): string => `
version: 1
idTranslation: { groupPrefix: ${groupPrefix}, parkTimeoutMs: ${parkTimeoutMs}, cacheSize: 1000 }
systems:
  ${SRC}:
    dialect: postgres
    connection: { host: db, database: src }
    tables:
      - name: orders
        key: [region, no]
      - name: lines
        key: [region, order_no, line]
        foreignKeys:
          - columns: [o_no, o_region]
            references: { table: orders, columns: [no, region] }
  ${TGT}:
    dialect: postgres
    connection: { host: db, database: tgt }
    tables:
      - name: customers
        key: [id]
        generatedKey: true
      - name: orders
        key: [id]
        generatedKey: true
        foreignKeys:
          - columns: [customer_id]
            references: { table: customers, columns: [id] }
`;

const t = (system: string, table: string) => ({ system, schema: 'public', table });
const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'it-idtrans-test' }, silentLog);

describe('id-translation on real Kafka and PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let replica: TranslationReplica;
  let producer: SyncProducer;
  let out: TopicCollector;
  const group = uniqueName('idt');

  before(async () => {
    db = await createDatabase('it_idtrans');
    producer = connection.producer();
    await producer.connect();
    replica = await TranslationReplica.start(pipeline(yaml(group)), db.url);
    out = await new TopicCollector().start([
      Topics.keyed(t(SRC, 'orders')), Topics.keyed(t(SRC, 'lines')), Topics.resolved(t(SRC, 'lines')), Topics.resolved(t(SRC, 'orders')),
      Topics.resolved(t(TGT, 'customers')), Topics.resolved(t(TGT, 'orders')), Topics.dlq('id-translation'),
    ]);
  });

  after(async () => {
    await replica?.stop();
    await out?.stop();
    await producer?.disconnect();
    await db?.drop();
  });

  it('attaches global ids to composite keys and foreign keys, and rewrites them back', async () => {
    await producer.send([
      { topic: Topics.legacy(t(SRC, 'orders')), key: '1', value: changeEvent(SRC, 'orders', 'c', { region: 'eu', no: 7, total: 10 }, 1), headers: { origin: `legacy:${SRC}`, 'event-id': 'e-1', 'causation-id': 'x-1' } },
      { topic: Topics.legacy(t(SRC, 'lines')), key: '2', value: changeEvent(SRC, 'lines', 'c', { region: 'eu', order_no: 7, line: 1, o_no: 7, o_region: 'eu' }, 2), headers: { origin: `legacy:${SRC}`, 'event-id': 'e-2' } },
      { topic: Topics.legacy(t(SRC, 'lines')), key: '3', value: changeEvent(SRC, 'lines', 'c', { region: 'us', order_no: 7, line: 1, o_no: null, o_region: null }, 3), headers: { 'event-id': 'e-3' } },
    ]);
    const [order] = await out.waitForCount(Topics.keyed(t(SRC, 'orders')), 1);
    const lines = await out.waitForCount(Topics.keyed(t(SRC, 'lines')), 2);
    const orderEvent = parseKeyedChangeEvent(order!.value);
    assert.equal(orderEvent.globalId, legacyGlobalId(SRC, 'public.orders', '["eu","7"]'));
    assert.equal(order!.message.key?.toString(), orderEvent.globalId);
    assert.deepEqual([order!.message.headers['origin'], order!.message.headers['event-id'], order!.message.headers['causation-id']], [`legacy:${SRC}`, 'e-1', 'x-1']);
    const [line, orphan] = lines.map((l) => parseKeyedChangeEvent(l.value));
    assert.deepEqual(line!.references, { 'o_no,o_region': orderEvent.globalId });
    assert.deepEqual(orphan!.references, { 'o_no,o_region': null });
    assert.notEqual(line!.globalId, orphan!.globalId);

    // Back: a new service moves the line to the order, by global ids only.
    await producer.send([{ topic: Topics.writeback(t(SRC, 'lines')), key: orphan!.globalId, value: writebackRequest(SRC, 'lines', 'wb-1', orphan!.globalId, { qty: 5 }, { 'o_no,o_region': orderEvent.globalId }), headers: { origin: 'service:it', 'causation-id': 'cause-wb-1' } }]);
    const [resolved] = await out.waitForCount(Topics.resolved(t(SRC, 'lines')), 1);
    const command = parseWritebackCommand(resolved!.value);
    assert.deepEqual(command.key, { region: 'us', order_no: 7, line: 1 });
    assert.deepEqual(command.columns, { qty: 5, o_no: 7, o_region: 'eu' });
    assert.equal(resolved!.message.headers['causation-id'], 'cause-wb-1');
  });

  it('parks children whose parent insert is in flight and releases them in order after the link', async () => {
    const C = `cust-${tag}`;
    const O = `order-${tag}`;
    const wb = (table: string, id: string, gid: string, cols: object, refs: object = {}) => ({ topic: Topics.writeback(t(TGT, table)), key: gid, value: writebackRequest(TGT, table, id, gid, cols as Record<string, unknown>, refs as Record<string, string>), headers: { origin: 'service:it' } });
    // The order (and an update of it) arrives before its customer exists anywhere.
    await producer.send([wb('orders', 'o-ins', O, { id: 99, total: 1 }, { customer_id: C }), wb('orders', 'o-upd', O, { total: 2 }, { customer_id: C })]);
    await waitFor('two parked commands', async () => Number((await replica.dataSource.query('SELECT count(*) AS n FROM keymap_parked_command'))[0].n) === 2);
    await producer.send([wb('customers', 'c-ins', C, { id: 42, name: 'Ada' })]);
    const [customerInsert] = await out.waitForCount(Topics.resolved(t(TGT, 'customers')), 1);
    assert.deepEqual(parseWritebackCommand(customerInsert!.value).key, {}, 'a generated key: the database chooses it');
    assert.deepEqual(parseWritebackCommand(customerInsert!.value).columns, { name: 'Ada' });
    assert.equal(out.on(Topics.resolved(t(TGT, 'orders'))).length, 0, 'the orders stay parked while the customer is pending');

    // legacy-writeback reports the generated customer key: the order insert goes, its update waits for the order's own key.
    await producer.send([{ topic: Topics.idmapLinks, key: C, value: JSON.stringify({ system: TGT, schema: 'public', table: 'customers', key: { id: 501 }, globalId: C, commandId: 'c-ins' }) }]);
    const [orderInsert] = await out.waitForCount(Topics.resolved(t(TGT, 'orders')), 1);
    assert.deepEqual([parseWritebackCommand(orderInsert!.value).commandId, parseWritebackCommand(orderInsert!.value).key, parseWritebackCommand(orderInsert!.value).columns], ['o-ins', {}, { total: 1, customer_id: 501 }]);
    await producer.send([{ topic: Topics.idmapLinks, key: O, value: JSON.stringify({ system: TGT, schema: 'public', table: 'orders', key: { id: 9001 }, globalId: O, commandId: 'o-ins' }) }]);
    const orders = await out.waitForCount(Topics.resolved(t(TGT, 'orders')), 2);
    const update = parseWritebackCommand(orders[1]!.value);
    assert.deepEqual([update.commandId, update.key, update.columns], ['o-upd', { id: 9001 }, { total: 2, customer_id: 501 }]);
    assert.equal(Number((await replica.dataSource.query('SELECT count(*) AS n FROM keymap_parked_command'))[0].n), 0);
  });

  it('replaying every input topic from offset 0 changes neither the key map nor the outputs', async () => {
    const snapshot = async () => JSON.stringify(await replica.dataSource.query('SELECT system, table_ref, local_key, key_values, global_id, origin FROM keymap_entry ORDER BY 1, 2, 3'));
    const outputs = (topic: string) => out.on(topic).map((c) => JSON.stringify(c.value)).sort();
    const topics = [Topics.keyed(t(SRC, 'orders')), Topics.keyed(t(SRC, 'lines')), Topics.resolved(t(SRC, 'lines')), Topics.resolved(t(TGT, 'customers')), Topics.resolved(t(TGT, 'orders'))];
    const mapBefore = await snapshot();
    const before = new Map(topics.map((topic) => [topic, outputs(topic)]));
    // A second replica in a new consumer group reads all inputs again from the start.
    const replay = await TranslationReplica.start(pipeline(yaml(uniqueName('replay'))), db.url);
    try {
      for (const topic of topics) await out.waitForCount(topic, before.get(topic)!.length * 2);
      await waitFor('the replay consumers to catch up', async () => replay.consumer.problem() === undefined);
      for (const topic of topics) {
        const doubled = [...before.get(topic)!, ...before.get(topic)!].sort();
        assert.deepEqual(outputs(topic), doubled, `${topic}: the replay produced the same messages again, nothing else`);
      }
      assert.equal(await snapshot(), mapBefore);
    } finally {
      await replay.stop();
    }
  });

  it('dead-letters a command parked longer than the limit, with the reason, and counts it', async () => {
    const G = `lonely-${tag}`;
    const shortLived = await TranslationReplica.start(pipeline(yaml(uniqueName('expiry'), 1_000)), db.url);
    try {
      await producer.send([{ topic: Topics.writeback(t(TGT, 'orders')), key: G, value: writebackRequest(TGT, 'orders', 'o-lonely', G, { total: 3 }, { customer_id: `nobody-${tag}` }), headers: { origin: 'service:it' } }]);
      // dlq.id-translation is shared with earlier runs: pick this run's dead letter by its source topic.
      const dead = await waitFor(
        'the parked command in the DLQ',
        () => out.on(Topics.dlq('id-translation')).find((c) => (c.value as { commandId?: string }).commandId === 'o-lonely' && c.message.headers[DLQ_HEADERS.sourceTopic] === Topics.writeback(t(TGT, 'orders'))),
        60_000,
      );
      assert.match(dead.message.headers[DLQ_HEADERS.reason] ?? '', /parked for \d+ s, longer than the limit.*customer_id -> .*unknown/);
      assert.equal(dead.message.headers[DLQ_HEADERS.sourceTopic], Topics.writeback(t(TGT, 'orders')));
      // The counter moves after the transaction that produced the dead letter commits: poll it.
      await waitFor('the expiry counted', async () => /sync_idtrans_parked_expired_total\{app="id-translation"\} [1-9]/.test(await shortLived.metrics.render()), 10_000);
    } finally {
      await shortLived.stop();
    }
  });

  it('a primary-key update keeps the global id both ways: the legacy move re-points it, a new-side key change moves the key map and the command', async () => {
    const legacy = (key: string, value: string, headers: Record<string, string>) => ({ topic: Topics.legacy(t(SRC, 'orders')), key, value, headers: { origin: `legacy:${SRC}`, ...headers } });
    const entryOf = async (localKey: string) =>
      ((await replica.dataSource.query('SELECT global_id FROM keymap_entry WHERE system = $1 AND table_ref = $2 AND local_key = $3', [SRC, 'public.orders', localKey])) as Array<{ global_id: string }>)[0]?.global_id;
    const keyedFor = (globalId: string) => out.on(Topics.keyed(t(SRC, 'orders'))).map((c) => parseKeyedChangeEvent(c.value)).filter((e) => e.globalId === globalId);

    await producer.send([legacy('{"region":"eu","no":50}', changeEvent(SRC, 'orders', 'c', { region: 'eu', no: 50, total: 1 }, 50), { 'event-id': 'pk-1' })]);
    const G = legacyGlobalId(SRC, 'public.orders', '["eu","50"]');
    await waitFor('order 50 keyed', () => (keyedFor(G).length === 1 ? true : undefined));

    // UPDATE orders SET no = 51 WHERE region = 'eu' AND no = 50, as legacy-import publishes it.
    await producer.send([
      legacy('{"region":"eu","no":50}', changeEvent(SRC, 'orders', 'd', { region: 'eu', no: 50, total: 1 }, 51), { 'event-id': 'pk-2:old-key', '__debezium.newkey': '{"region":"eu","no":51}' }),
      legacy('{"region":"eu","no":51}', changeEvent(SRC, 'orders', 'c', { region: 'eu', no: 51, total: 1 }, 51), { 'event-id': 'pk-2', '__debezium.oldkey': '{"region":"eu","no":50}' }),
    ]);
    const moved = await waitFor('the move keyed', () => (keyedFor(G).length === 2 ? keyedFor(G)[1] : undefined));
    assert.deepEqual([moved.op, moved.after], ['u', { region: 'eu', no: 51, total: 1 }], 'one aggregate, updated, with its new legacy key');
    assert.equal(await entryOf('["eu","51"]'), G);
    assert.equal(await entryOf('["eu","50"]'), undefined);

    // The new side changes the natural key that is the legacy key: the command moves the row in place.
    await producer.send([{ topic: Topics.writeback(t(SRC, 'orders')), key: G, value: writebackRequest(SRC, 'orders', 'pk-wb', G, { no: 52, total: 2 }), headers: { origin: 'service:it' } }]);
    const resolved = await waitFor('the move command', () => out.on(Topics.resolved(t(SRC, 'orders'))).map((c) => parseWritebackCommand(c.value)).find((c) => c.commandId === 'pk-wb'));
    assert.deepEqual([resolved.key, resolved.newKey, resolved.columns], [{ region: 'eu', no: 51 }, { region: 'eu', no: 52 }, { total: 2 }]);
    assert.equal(await entryOf('["eu","52"]'), G);
    assert.equal(keyedFor(G).length, 2, 'nothing more went to the new side');
  });
});
