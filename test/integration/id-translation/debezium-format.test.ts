import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ChangeHeaders, DebeziumEnvelopeEncoder, parseKeyedChangeEvent, Topics } from '@sync/contracts';
import { KafkaConnection, silentLog, type OutboundRecord, type SyncProducer } from '@sync/kafka';
import { testBrokers, uniqueName } from '../../support/test-env';
import { TopicCollector } from '../../support/topic-collector';
import { createDatabase, pipeline, TranslationReplica } from './translation-harness';

// legacy.* in Debezium format (technicalTopics.format: debezium, docs/debezium-compatibility.md):
// id-translation decodes the envelopes (native values restored from the Connect schema), keeps a
// row's global id across a primary-key update, and skips the tombstones without dead letters.

const SYS = `dbz_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const yaml = (groupPrefix: string): string => `
version: 1
idTranslation: { groupPrefix: ${groupPrefix}, cacheSize: 1000, rekeyWaitMs: 5000 }
technicalTopics: { format: debezium }
systems:
  ${SYS}:
    dialect: postgres
    connection: { host: db, database: src }
    tables:
      - name: items
        key: [id]
`;

const ref = { system: SYS, schema: 'public', table: 'items' };
const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'it-idtrans-dbz' }, silentLog);

describe('id-translation on legacy.* in Debezium format (real Kafka and PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let replica: TranslationReplica;
  let producer: SyncProducer;
  let out: TopicCollector;

  before(async () => {
    db = await createDatabase('it_idtrans_dbz');
    producer = connection.producer();
    await producer.connect();
    replica = await TranslationReplica.start(pipeline(yaml(uniqueName('idt'))), db.url);
    out = await new TopicCollector().start([Topics.keyed(ref), Topics.dlq('id-translation')]);
  });

  after(async () => {
    await replica?.stop();
    await out?.stop();
    await producer?.disconnect();
    await db?.drop();
  });

  it('translates envelopes with native values, moves the id on a key update and skips tombstones', async () => {
    const encoder = new DebeziumEnvelopeEncoder(
      {
        dialect: 'postgres', system: SYS, database: 'src', schema: 'public', table: 'items', key: ['id'],
        columns: [{ name: 'id', type: 'int4', nullable: false }, { name: 'price', type: 'numeric', nullable: true, precision: 12, scale: 2 }, { name: 'day', type: 'date', nullable: true }],
      },
      { schemasEnable: true, tombstonesOnDelete: true },
    );
    let position = 0;
    const topic = Topics.legacy(ref);
    const record = (op: 'c' | 'd', row: Record<string, unknown>, extra: Record<string, string> = {}, tombstone = false): OutboundRecord => {
      position++;
      const headers = { origin: `legacy:${SYS}`, 'event-id': `e-${position}`, 'causation-id': `e-${position}`, [ChangeHeaders.position]: String(position), [ChangeHeaders.committedAt]: '2026-01-01T00:00:00Z', ...extra };
      const value = tombstone ? null : encoder.value({ op, before: op === 'd' ? row : null, after: op === 'd' ? null : row, position: String(position), committedAt: '2026-01-01T00:00:00Z', txId: null }, position);
      return { topic, key: encoder.key({ id: row['id'] }), value, headers };
    };
    const five = { id: 5, price: '10.50', day: '2026-01-02' };
    const nine = { ...five, id: 9 };
    await producer.send([
      record('c', five),
      record('d', five, { '__debezium.newkey': '{"id":9}' }),
      record('d', five, { '__debezium.newkey': '{"id":9}' }, true),
      record('c', nine, { '__debezium.oldkey': '{"id":5}' }),
      record('d', nine),
      record('d', nine, {}, true),
      // Behind the last tombstone on the same partition: its translation proves the tombstones were passed.
      record('c', { id: 11, price: '-0.01', day: null }),
    ]);
    const keyed = (await out.waitForCount(Topics.keyed(ref), 4, 60_000)).map((c) => parseKeyedChangeEvent(c.value));
    assert.deepEqual(keyed.map((e) => e.op), ['c', 'u', 'd', 'c'], 'the create, the move (as an update of the same aggregate), the delete, the next create');
    assert.deepEqual(keyed[0]!.after, five, 'values back in native form: exact decimal text, ISO date');
    assert.deepEqual(keyed[3]!.after, { id: 11, price: '-0.01', day: null });
    assert.equal(new Set(keyed.slice(0, 3).map((e) => e.globalId)).size, 1, 'one global id across the key update');
    assert.notEqual(keyed[3]!.globalId, keyed[0]!.globalId);
    assert.deepEqual(keyed.map((e) => e.source.position), ['1', '4', '5', '7'], 'positions from the sync-position header');
    assert.equal(out.on(Topics.dlq('id-translation')).length, 0, 'tombstones are not dead letters');
  });
});
