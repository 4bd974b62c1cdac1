import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseKeyedChangeEvent, Topics } from '@sync/contracts';
import { KafkaConnection, silentLog, type SyncProducer } from '@sync/kafka';
import { mergeGlobalId } from '../../../libs/keymap/src/global-id';
import { testBrokers, uniqueName } from '../../support/test-env';
import { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { changeEvent, createDatabase, pipeline, TranslationReplica } from './translation-harness';

const SRC = `mw_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const yaml = (groupPrefix: string): string => `
version: 1
idTranslation: { groupPrefix: ${groupPrefix}, mergeWaitMs: 600000 }
systems:
  ${SRC}:
    dialect: postgres
    connection: { host: db, database: src }
    tables:
      - name: customers
        key: [id]
        merge: { group: person, on: [email] }
      - name: orders
        key: [id]
        foreignKeys:
          - columns: [customer_id]
            references: { table: customers, columns: [id] }
`;
const t = (table: string) => ({ system: SRC, schema: 'public', table });

describe('id-translation: orders read before their merge-table customer', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let replica: TranslationReplica;
  let producer: SyncProducer;
  let keyed: TopicCollector;
  const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'it-merge-wait' }, silentLog);

  before(async () => {
    db = await createDatabase('it_idtrans_mw');
    producer = connection.producer();
    await producer.connect();
    replica = await TranslationReplica.start(pipeline(yaml(uniqueName('mw'))), db.url);
    keyed = await new TopicCollector().start([Topics.keyed(t('customers')), Topics.keyed(t('orders'))]);
  });

  after(async () => {
    await replica?.stop();
    await keyed?.stop();
    await producer?.disconnect();
    await db?.drop();
  });

  it('wait for the customer (other topics go on), then point at its merge id, in order', async () => {
    await producer.send([1, 2].map((id) => ({ topic: Topics.legacy(t('orders')), key: String(id), value: changeEvent(SRC, 'orders', 'r', { id, customer_id: 5 }, id) })));
    await waitFor('the orders partition waits', async () => /sync_idtrans_merge_waits_total(\{[^}]*\})? [1-9]/.test(await replica.metrics.render()) || undefined, 30_000);
    assert.equal(keyed.on(Topics.keyed(t('orders'))).length, 0, 'no order is published while its customer is unknown');

    await producer.send([{ topic: Topics.legacy(t('customers')), key: '5', value: changeEvent(SRC, 'customers', 'r', { id: 5, email: ' Ada@Example.org' }, 3) }]);
    const orders = await keyed.waitForCount(Topics.keyed(t('orders')), 2, 30_000);
    const [customer] = await keyed.waitForCount(Topics.keyed(t('customers')), 1, 30_000);
    const person = mergeGlobalId('person', '["ada@example.org"]');
    assert.equal(parseKeyedChangeEvent(customer!.value).globalId, person, 'the customer keeps its merge id');
    assert.deepEqual(
      orders.map((o) => parseKeyedChangeEvent(o.value)).map((e) => [e.after?.['id'], e.references['customer_id']]),
      [[1, person], [2, person]],
    );
    const [row] = await replica.dataSource.query(`SELECT global_id, origin FROM keymap_entry WHERE system = $1 AND table_ref = 'public.customers'`, [SRC]);
    assert.deepEqual(row, { global_id: person, origin: 'merge' });
  });
});
