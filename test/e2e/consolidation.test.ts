import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { Topics } from '@sync/contracts';
import { KafkaConnection, silentLog } from '@sync/kafka';
import { ConsolidationStack } from '../support/consolidation-stack';
import type { LegacyDatabase } from '../support/legacy-database';
import { testBrokers } from '../support/test-env';
import { waitFor } from '../support/wait-for';

// Two source databases A and B whose keys collide (customers 1..1500 and orders 1..3000 in both)
// consolidate into HUB, which generates its own keys. 100 people are customers of both A and B
// (same e-mail, different ids and letter case): they must become one HUB customer.
// Rows 1..1000 / 1..2000 exist before the apps start (legacy-import's snapshot takes them); the
// rest is inserted while one id-translation replica is down after a kill -9 (streamed).
const CUSTOMERS = 1500;
const ORDERS = 3000;
const SNAPSHOT_CUSTOMERS = 1000;
const SNAPSHOT_ORDERS = 2000;
const SHARED = 100;

type Source = 'a' | 'b';

/** Shared people: A's customers 15, 30 … 1500 and B's 8, 23 … 1493 are person1 … person100. */
function emailOf(source: Source, id: number): string {
  if (source === 'a' && id % 15 === 0) return `person${id / 15}@example.org`;
  if (source === 'b' && id % 15 === 8) return `Person${(id + 7) / 15}@Example.org`;
  return `${source}-${id}@example.org`;
}

/** Orders point only at customers that exist when they are inserted. */
function customerOf(orderId: number): number {
  return ((orderId * 7) % (orderId <= SNAPSHOT_ORDERS ? SNAPSHOT_CUSTOMERS : CUSTOMERS)) + 1;
}

async function insertRows(db: LegacyDatabase, source: Source, customers: [number, number], orders: [number, number]): Promise<void> {
  const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const c = ids(...customers);
  const o = ids(...orders);
  await db.transaction([
    ['INSERT INTO customers (id, email, name) SELECT * FROM unnest($1::int[], $2::text[], $3::text[])', [c, c.map((id) => emailOf(source, id)), c.map((id) => `${source.toUpperCase()} customer ${id}`)]],
    ["SELECT setval(pg_get_serial_sequence('customers', 'id'), $1)", [customers[1]]],
    [
      'INSERT INTO orders (id, customer_id, ref, total) SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::numeric[])',
      [o, o.map(customerOf), o.map((id) => `${source}-${id}`), o.map((id) => ((id % 997) + 0.25).toFixed(2))],
    ],
    ["SELECT setval(pg_get_serial_sequence('orders', 'id'), $1)", [orders[1]]],
  ]);
}

async function count(db: LegacyDatabase, table: string): Promise<number> {
  const [r] = await db.exec<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return r!.n;
}

describe('consolidation: two source databases with colliding keys into one hub, the apps as processes', () => {
  let stack: ConsolidationStack;
  const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'e2e-consolidation' }, silentLog);
  const admin = connection.admin();
  const dlqBefore = new Map<string, number>();
  const apps = ['legacy-import', 'id-translation', 'domain-transform', 'legacy-writeback'];

  before(async () => {
    stack = await ConsolidationStack.create();
    await admin.ensureTopics(apps.map((app) => ({ topic: Topics.dlq(app) })));
    for (const app of apps) dlqBefore.set(app, await admin.messageCount(Topics.dlq(app)));
    await insertRows(stack.a, 'a', [1, SNAPSHOT_CUSTOMERS], [1, SNAPSHOT_ORDERS]);
    await insertRows(stack.b, 'b', [1, SNAPSHOT_CUSTOMERS], [1, SNAPSHOT_ORDERS]);
  });

  after(async () => {
    await admin.disconnect().catch(() => undefined);
    await stack?.close();
  });

  it('counts add up, every order points at the right customer, shared people appear once, also across a kill -9 of one id-translation replica', async () => {
    // Two id-translation replicas in one consumer group (three partitions per topic).
    await stack.start('id-translation-1', 'id-translation');
    await stack.start('id-translation-2', 'id-translation');
    await stack.start('domain-transform', 'domain-transform');
    await stack.start('legacy-writeback', 'legacy-writeback');
    await stack.start('legacy-import', 'legacy-import');

    // Mid-stream: the hub is being filled; one replica crashes without committing anything.
    await waitFor('the first rows reach the hub', async () => (await count(stack.hub, 'orders')) > 0 || undefined, 120_000, 200);
    await stack.app('id-translation-1').kill();
    await insertRows(stack.a, 'a', [SNAPSHOT_CUSTOMERS + 1, CUSTOMERS], [SNAPSHOT_ORDERS + 1, ORDERS]);
    await insertRows(stack.b, 'b', [SNAPSHOT_CUSTOMERS + 1, CUSTOMERS], [SNAPSHOT_ORDERS + 1, ORDERS]);
    await stack.start('id-translation-1', 'id-translation');

    const distinctCustomers = 2 * CUSTOMERS - SHARED;
    try {
      await waitFor(
        'the hub to converge',
        async () =>
          (await count(stack.hub, 'customers')) >= distinctCustomers &&
          (await count(stack.hub, 'orders')) >= 2 * ORDERS &&
          (await count(stack.keymap, 'keymap_parked_command')) === 0 &&
          (await count(stack.keymap, 'keymap_pending_insert WHERE linked_at IS NULL')) === 0,
        240_000,
        500,
      );
    } catch (err) {
      const got = {
        customers: await count(stack.hub, 'customers'),
        orders: await count(stack.hub, 'orders'),
        parked: await count(stack.keymap, 'keymap_parked_command'),
        unlinked: await count(stack.keymap, 'keymap_pending_insert WHERE linked_at IS NULL'),
      };
      throw new Error(`${(err as Error).message}: ${JSON.stringify(got)}\n${stack.logs()}`);
    }

    // Row counts: both sources, the shared people once, no order lost or doubled.
    assert.equal(await count(stack.hub, 'customers'), distinctCustomers);
    assert.equal(await count(stack.hub, 'orders'), 2 * ORDERS);
    const [dupEmails] = await stack.hub.exec<{ n: number }>('SELECT count(*)::int AS n FROM (SELECT lower(email) FROM customers GROUP BY 1 HAVING count(*) > 1) d');
    assert.equal(dupEmails!.n, 0, 'every e-mail, shared ones included, appears exactly once in the hub');
    const [totals] = await stack.hub.exec<{ sum: string }>('SELECT sum(total)::text AS sum FROM orders');
    const sourceTotal = async (db: LegacyDatabase) => Number((await db.exec<{ sum: string }>('SELECT sum(total)::text AS sum FROM orders'))[0]!.sum);
    assert.equal(Number(totals!.sum).toFixed(2), ((await sourceTotal(stack.a)) + (await sourceTotal(stack.b))).toFixed(2));

    // Every hub order's customer has the e-mail of the customer its source order pointed at.
    const emailByRef = async (db: LegacyDatabase) =>
      new Map((await db.exec<{ ref: string; email: string }>('SELECT o.ref, lower(c.email) AS email FROM orders o JOIN customers c ON c.id = o.customer_id')).map((r) => [r.ref, r.email]));
    const expected = new Map([...(await emailByRef(stack.a)), ...(await emailByRef(stack.b))]);
    const actual = await emailByRef(stack.hub);
    assert.equal(actual.size, 2 * ORDERS);
    const wrong = [...expected].filter(([ref, email]) => actual.get(ref) !== email);
    assert.deepEqual(wrong.slice(0, 5).map(([ref, email]) => ({ ref, expected: email, hub: actual.get(ref) })), [], `${wrong.length} hub orders point at the wrong customer`);

    // The key map: one global id per local key, one local key per global id and table, and one
    // global id per shared person, in A, B and the hub alike.
    const km = new Client({ connectionString: stack.keymap.url });
    await km.connect();
    try {
      const dup = await km.query<{ local: number; global: number; pending: number }>(`SELECT
          (SELECT count(*)::int FROM (SELECT 1 FROM keymap_entry GROUP BY system, table_ref, local_key HAVING count(*) > 1) d) AS local,
          (SELECT count(*)::int FROM (SELECT 1 FROM keymap_entry GROUP BY global_id, system, table_ref HAVING count(*) > 1) d) AS global,
          (SELECT count(*)::int FROM keymap_pending_insert WHERE linked_at IS NULL) AS pending`);
      assert.deepEqual(dup.rows[0], { local: 0, global: 0, pending: 0 });
      const { rows } = await km.query<{ system: string; id: string; global_id: string }>(
        "SELECT system, key_values->>'id' AS id, global_id FROM keymap_entry WHERE table_ref = 'public.customers'",
      );
      const idOf = new Map(rows.map((r) => [`${r.system}/${r.id}`, r.global_id]));
      const hubIds = new Set(rows.filter((r) => r.system === stack.names.hub).map((r) => r.global_id));
      assert.equal(hubIds.size, distinctCustomers);
      for (let person = 1; person <= SHARED; person++) {
        const inA = idOf.get(`${stack.names.a}/${person * 15}`);
        const inB = idOf.get(`${stack.names.b}/${person * 15 - 7}`);
        assert.ok(inA !== undefined && inA === inB, `person${person}: one global id in A and B (${inA} / ${inB})`);
        assert.ok(hubIds.has(inA), `person${person}: the hub row carries that global id`);
      }
      const sourceIds = new Set(rows.filter((r) => r.system !== stack.names.hub).map((r) => r.global_id));
      assert.deepEqual([...sourceIds].filter((id) => !hubIds.has(id)), [], 'every source customer is in the hub');
    } finally {
      await km.end();
    }

    for (const app of apps) assert.equal(await admin.messageCount(Topics.dlq(app)), dlqBefore.get(app), `nothing dead-lettered by ${app}\n${stack.logs()}`);
  });

  it('a primary-key update in a source keeps its global id: the hub holds one customer, its orders follow (ON UPDATE CASCADE)', async () => {
    // A's orders follow their customer's key, as a legacy schema with cascading keys does.
    await stack.a.exec('ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey, ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) ON UPDATE CASCADE');
    const OLD = 7; // not a shared person; customerOf() gives it orders
    const NEW = 900_007;
    const km = new Client({ connectionString: stack.keymap.url });
    await km.connect();
    try {
      const entry = async (system: string, id: number | string) =>
        (await km.query<{ global_id: string; hub_id: string | null }>(
          `SELECT e.global_id, (SELECT h.key_values->>'id' FROM keymap_entry h WHERE h.system = $3 AND h.table_ref = e.table_ref AND h.global_id = e.global_id) AS hub_id
             FROM keymap_entry e WHERE e.system = $1 AND e.table_ref = 'public.customers' AND e.local_key = $2`,
          [system, JSON.stringify([String(id)]), stack.names.hub],
        )).rows[0];
      const before = await entry(stack.names.a, OLD);
      assert.ok(before?.hub_id, 'customer 7 of A is in the hub');
      const hubCustomers = await count(stack.hub, 'customers');
      const [orders] = await stack.a.exec<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE customer_id = $1', [OLD]);
      assert.ok(orders!.n > 0, 'customer 7 has orders');

      await stack.a.exec('UPDATE customers SET id = $1, name = $2 WHERE id = $3', [NEW, 'A customer 7, re-keyed', OLD]);

      try {
        await waitFor(
          'the re-keyed customer to reach the hub',
          async () => {
            const [row] = await stack.hub.exec<{ name: string }>('SELECT name FROM customers WHERE id = $1', [Number(before!.hub_id)]);
            return row?.name === 'A customer 7, re-keyed' && (await count(stack.keymap, 'keymap_parked_command')) === 0 ? true : undefined;
          },
          120_000,
          250,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}: parked ${await count(stack.keymap, 'keymap_parked_command')}\n${stack.logs()}`);
      }
      const moved = await entry(stack.names.a, NEW);
      assert.deepEqual(moved, before, 'the new legacy key carries the same global id and the same hub row');
      assert.equal(await entry(stack.names.a, OLD), undefined, 'the old legacy key is gone from the key map');
      assert.equal(await count(stack.hub, 'customers'), hubCustomers, 'the hub holds one row for the customer, not two');
      const [hubOrders] = await stack.hub.exec<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE customer_id = $1', [Number(before!.hub_id)]);
      assert.equal(hubOrders!.n, orders!.n, 'the hub orders still point at the same customer');
      assert.equal(await count(stack.keymap, 'keymap_parked_command'), 0, 'no order waits for a customer that does not exist');
    } finally {
      await km.end();
    }
    for (const app of apps) assert.equal(await admin.messageCount(Topics.dlq(app)), dlqBefore.get(app), `nothing dead-lettered by ${app}\n${stack.logs()}`);
  });
});
