import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseKeyedChangeEvent, parseWritebackCommand, Topics } from '@sync/contracts';
import { KafkaConnection, silentLog, type OutboundRecord, type SyncProducer } from '@sync/kafka';
import { testBrokers, uniqueName } from '../../support/test-env';
import { TopicCollector } from '../../support/topic-collector';
import { changeEvent, createDatabase, pipeline, TranslationReplica, writebackRequest } from './translation-harness';

// Two source systems whose keys overlap (customer 1..N and order 1..M in both) consolidate into
// one target; customers with the same e-mail in both sources are one person (merge group).
const tag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const A = `a_${tag}`;
const B = `b_${tag}`;
const HUB = `hub_${tag}`;
const CUSTOMERS = 1000;
const ORDERS = 2000;
const SHARED = 100; // customers 1..SHARED have the same e-mail in A and B

const system = (name: string, target: boolean) => `
  ${name}:
    dialect: postgres
    connection: { host: db, database: ${name} }
    tables:
      - name: customers
        key: [id]
        merge: { group: person, on: [email] }${target ? '\n        allocateKeysFrom: 1' : ''}
      - name: orders
        key: [id]${target ? '\n        allocateKeysFrom: 1' : ''}
        foreignKeys:
          - columns: [customer_id]
            references: { table: customers, columns: [id] }`;
const yaml = (group: string) => `
version: 1
idTranslation: { groupPrefix: ${group}, cacheSize: 50000 }
systems:${system(A, false)}${system(B, false)}${system(HUB, true)}
`;

const t = (s: string, table: string) => ({ system: s, schema: 'public', table });
const email = (src: string, id: number) => (id <= SHARED ? `person${id}@example.org` : `${src}-${id}@example.org`);
const customerOf = (id: number) => ((id * 7) % CUSTOMERS) + 1;

describe('consolidation of two sources with overlapping keys, two replicas in one group', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  const replicas: TranslationReplica[] = [];
  const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'it-consolidation' }, silentLog);
  let producer: SyncProducer;
  let keyed: TopicCollector;
  let resolved: TopicCollector;

  before(async () => {
    db = await createDatabase('it_idtrans_cons');
    producer = connection.producer();
    await producer.connect();
    // Several partitions per input topic, so the two replicas share every table's traffic.
    const admin = connection.admin();
    const inputs = [A, B, HUB].flatMap((s) => ['customers', 'orders'].flatMap((table) => [Topics.legacy(t(s, table)), Topics.writeback(t(s, table))]));
    await admin.ensureTopics([...inputs, Topics.idmapLinks].map((topic) => ({ topic, partitions: 4 })));
    await admin.disconnect();
    const config = pipeline(yaml(uniqueName('cons')));
    replicas.push(await TranslationReplica.start(config, db.url), await TranslationReplica.start(config, db.url));
    keyed = await new TopicCollector().start([A, B].flatMap((s) => [Topics.keyed(t(s, 'customers')), Topics.keyed(t(s, 'orders'))]));
    resolved = await new TopicCollector().start([Topics.resolved(t(HUB, 'customers')), Topics.resolved(t(HUB, 'orders'))]);
  });

  after(async () => {
    for (const r of replicas) await r.stop();
    await keyed?.stop();
    await resolved?.stop();
    await producer?.disconnect();
    await db?.drop();
  });

  it('keeps colliding keys apart, points every order at the right customer, and merges by e-mail', async () => {
    // legacy-import's part: the sources' rows as change events (customers first, as a snapshot does).
    for (const src of [A, B]) {
      const customers: OutboundRecord[] = [];
      for (let id = 1; id <= CUSTOMERS; id++) customers.push({ topic: Topics.legacy(t(src, 'customers')), key: String(id), value: changeEvent(src, 'customers', 'r', { id, email: email(src, id) }, id), headers: { origin: `legacy:${src}` } });
      await producer.send(customers);
    }
    for (const src of [A, B]) await keyed.waitForCount(Topics.keyed(t(src, 'customers')), CUSTOMERS, 120_000);
    for (const src of [A, B]) {
      const orders: OutboundRecord[] = [];
      for (let id = 1; id <= ORDERS; id++) orders.push({ topic: Topics.legacy(t(src, 'orders')), key: String(id), value: changeEvent(src, 'orders', 'r', { id, customer_id: customerOf(id), ref: `${src}:${id}` }, id), headers: { origin: `legacy:${src}` } });
      await producer.send(orders);
    }
    for (const src of [A, B]) await keyed.waitForCount(Topics.keyed(t(src, 'orders')), ORDERS, 120_000);

    // domain-transform's replication rule: every keyed row of A and B becomes a write-back request for the hub.
    // Orders go first on purpose: they are parked until their customer has a hub key.
    const requests: OutboundRecord[] = [];
    for (const table of ['orders', 'customers'] as const) {
      for (const src of [A, B]) {
        for (const item of keyed.on(Topics.keyed(t(src, table)))) {
          const e = parseKeyedChangeEvent(item.value);
          requests.push({ topic: Topics.writeback(t(HUB, table)), key: e.globalId, value: writebackRequest(HUB, table, `${src}-${table}-${item.message.offset}-${item.message.partition}`, e.globalId, { ...e.after }, table === 'orders' ? { customer_id: e.references['customer_id'] ?? null } : {}), headers: { origin: `legacy:${src}` } });
        }
      }
    }
    await producer.send(requests);

    // legacy-writeback's part, simplified: apply the resolved commands to an in-memory hub table by key.
    const distinctCustomers = 2 * CUSTOMERS - SHARED;
    await resolved.waitForCount(Topics.resolved(t(HUB, 'orders')), 2 * ORDERS, 180_000);
    await resolved.waitForCount(Topics.resolved(t(HUB, 'customers')), 2 * CUSTOMERS, 180_000);
    const hubCustomers = new Map<number, Record<string, unknown>>();
    for (const c of resolved.on(Topics.resolved(t(HUB, 'customers')))) {
      const cmd = parseWritebackCommand(c.value);
      hubCustomers.set(Number(cmd.key['id']), { ...hubCustomers.get(Number(cmd.key['id'])), ...cmd.columns });
    }
    const hubOrders = new Map<number, Record<string, unknown>>();
    for (const o of resolved.on(Topics.resolved(t(HUB, 'orders')))) {
      const cmd = parseWritebackCommand(o.value);
      hubOrders.set(Number(cmd.key['id']), { ...cmd.columns });
    }
    assert.equal(hubCustomers.size, distinctCustomers, 'customers: both sources, the shared e-mails once');
    assert.equal(hubOrders.size, 2 * ORDERS, 'orders: both sources, none lost or doubled');
    assert.equal(new Set([...hubCustomers.values()].map((c) => c['email'])).size, distinctCustomers);
    for (const order of hubOrders.values()) {
      const [src, id] = String(order['ref']).split(':') as [string, string];
      const customer = hubCustomers.get(Number(order['customer_id']));
      assert.equal(customer?.['email'], email(src, customerOf(Number(id))), `order ${String(order['ref'])} points at its own source's customer`);
    }

    // Two replicas, one key map: every local key has one global id, every global id one key per table.
    const [dupes] = await replicas[0]!.dataSource.query(`SELECT
        (SELECT count(*) FROM keymap_entry) AS entries,
        (SELECT count(*) FROM (SELECT global_id, system, table_ref FROM keymap_entry GROUP BY 1, 2, 3 HAVING count(*) > 1) d) AS shared_ids,
        (SELECT count(*) FROM keymap_parked_command) AS parked`);
    assert.equal(Number(dupes.shared_ids), 0);
    assert.equal(Number(dupes.parked), 0);
    assert.equal(Number(dupes.entries), 2 * (CUSTOMERS + ORDERS) + distinctCustomers + 2 * ORDERS);
    const seen = new Map<string, string>();
    for (const item of keyed.items) {
      const e = parseKeyedChangeEvent(item.value);
      const id = `${e.source.system}/${e.source.table}/${JSON.stringify(e.after?.['id'])}`;
      assert.equal(seen.get(id) ?? e.globalId, e.globalId, `${id} got two global ids`);
      seen.set(id, e.globalId);
    }
  });
});
