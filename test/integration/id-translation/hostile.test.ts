import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseKeyedChangeEvent, parseWritebackCommand, Topics } from '@sync/contracts';
import { DLQ_HEADERS, KafkaConnection, silentLog, type SyncProducer } from '@sync/kafka';
import { testBrokers, uniqueName } from '../../support/test-env';
import { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { changeEvent, createDatabase, pipeline, TranslationReplica, writebackRequest } from './translation-harness';

const tag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const SYS = `hostile_${tag}`;

const yaml = (groupPrefix: string): string => `
version: 1
idTranslation: { groupPrefix: ${groupPrefix}, parkTimeoutMs: 600000, cacheSize: 1000 }
systems:
  ${SYS}:
    dialect: postgres
    connection: { host: db, database: tgt }
    tables:
      - name: customers
        key: [id]
        generatedKey: true
`;

const customers = { system: SYS, schema: 'public', table: 'customers' };
const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'it-idtrans-hostile' }, silentLog);

describe('id-translation refuses hostile text as data (real Kafka and PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let replica: TranslationReplica;
  let producer: SyncProducer;
  let out: TopicCollector;

  before(async () => {
    db = await createDatabase('it_hostile');
    producer = connection.producer();
    await producer.connect();
    replica = await TranslationReplica.start(pipeline(yaml(uniqueName('idh'))), db.url);
    out = await new TopicCollector().start([Topics.resolved(customers), Topics.keyed(customers), Topics.dlq('id-translation')]);
  });

  after(async () => {
    await replica?.stop();
    await out?.stop();
    await producer?.disconnect();
    await db?.drop();
  });

  it('dead-letters a write-back whose ce_subject (its global id) holds a NUL within 30 s, and applies the good one behind it on the same partition', async () => {
    const bad = `cust-${tag}\u0000x`;
    const good = `cust-${tag}-ok`;
    const started = Date.now();
    // Same message key: same partition, the good one queued behind the bad one.
    await producer.send([
      { topic: Topics.writeback(customers), key: `k-${tag}`, value: writebackRequest(SYS, 'customers', `bad-${tag}`, bad, { name: 'Eve' }), headers: { origin: 'service:it', ce_subject: bad } },
      { topic: Topics.writeback(customers), key: `k-${tag}`, value: writebackRequest(SYS, 'customers', `good-${tag}`, good, { name: 'Ada' }), headers: { origin: 'service:it', ce_subject: good } },
    ]);
    const dead = await waitFor(
      'the NUL command in the DLQ',
      () => out.on(Topics.dlq('id-translation')).find((c) => c.message.headers[DLQ_HEADERS.sourceTopic] === Topics.writeback(customers) && (c.value as { commandId?: string }).commandId === `bad-${tag}`),
      30_000,
    );
    assert.ok(Date.now() - started < 30_000);
    assert.equal(dead.message.headers[DLQ_HEADERS.errorKind], 'data');
    assert.match(dead.message.headers[DLQ_HEADERS.reason] ?? '', /ce_subject.*NUL/);
    const [resolved] = await out.waitForCount(Topics.resolved(customers), 1);
    const command = parseWritebackCommand(resolved!.value);
    assert.equal(command.commandId, `good-${tag}`);
    assert.equal(command.globalId, good);
  });

  it('dead-letters a change event whose key column holds a NUL, naming the column, and translates the next one', async () => {
    await producer.send([
      { topic: Topics.legacy(customers), key: 'same', value: changeEvent(SYS, 'customers', 'c', { id: `a\u0000b`, name: 'x' }, 1) },
      { topic: Topics.legacy(customers), key: 'same', value: changeEvent(SYS, 'customers', 'c', { id: 'ok', name: 'y' }, 2) },
    ]);
    const dead = await waitFor(
      'the NUL change event in the DLQ',
      () => out.on(Topics.dlq('id-translation')).find((c) => c.message.headers[DLQ_HEADERS.sourceTopic] === Topics.legacy(customers)),
      30_000,
    );
    assert.equal(dead.message.headers[DLQ_HEADERS.errorKind], 'data');
    assert.match(dead.message.headers[DLQ_HEADERS.reason] ?? '', /key column id.*NUL/);
    const [keyed] = await out.waitForCount(Topics.keyed(customers), 1);
    assert.deepEqual(parseKeyedChangeEvent(keyed!.value).after, { id: 'ok', name: 'y' });
  });
});
