import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorKind } from '@sync/errors';
import { silentLog } from '@sync/kafka';
import { DomainEventsBatchServer, serviceEventMessage, toDomainEvent, validEvents, type DomainEventBatch } from '@sync/nest-events';

const options = { source: 'urn:svc', origin: 'service:svc', aggregate: 'Customer' };

function batchOf(raws: ReadonlyArray<Parameters<typeof toDomainEvent>[0]>): DomainEventBatch<unknown> {
  return { topic: 'domain.crm.customer', partition: 0, events: raws.map((r) => toDomainEvent(r)), heartbeat: async () => undefined };
}

function raw(id: string, offset: string) {
  const m = serviceEventMessage({ id, type: 'CustomerChanged', subject: `gid-${id}`, data: { name: id } }, options);
  return { key: Buffer.from(m.key), value: Buffer.from(m.value), headers: m.headers, topic: 'domain.crm.customer', partition: 0, offset };
}

describe('nest-events: batches for @EventPattern handlers', () => {
  it('validEvents gives the events of a batch in order', () => {
    assert.deepEqual(validEvents(batchOf([raw('e1', '1'), raw('e2', '2')])).map((e) => [e.id, e.offset]), [['e1', '1'], ['e2', '2']]);
  });

  it('validEvents throws a DataError naming where the first invalid message is and why (the server dead-letters that one)', () => {
    const batch = batchOf([raw('e1', '1'), { key: null, value: Buffer.from('{}'), headers: {}, topic: 'domain.crm.customer', partition: 0, offset: '2' }]);
    assert.throws(
      () => validEvents(batch),
      (err: unknown) => errorKind(err) === 'data' && /^domain\.crm\.customer\[0\]@2: /.test((err as Error).message),
    );
  });

  it('DomainEventsBatchServer names the bad option', () => {
    const kafka = { brokers: ['127.0.0.1:1'], clientId: 'c' };
    assert.throws(() => new DomainEventsBatchServer({ kafka: { ...kafka, brokers: [] }, groupId: 'g', app: 'a', log: silentLog }), /kafka\.brokers is empty/);
    assert.throws(() => new DomainEventsBatchServer({ kafka, groupId: ' ', app: 'a', log: silentLog }), /groupId is empty/);
    assert.throws(() => new DomainEventsBatchServer({ kafka, groupId: 'g', app: '', log: silentLog }), /app is empty/);
    assert.throws(() => new DomainEventsBatchServer({ kafka, groupId: 'g', app: 'a', partitionsConsumedConcurrently: 0, log: silentLog }), /partitionsConsumedConcurrently must be an integer of at least 1, got 0/);
  });
});
