import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Headers } from '@sync/contracts';
import { DomainEventDeserializer, isInvalidDomainEvent, serviceEventMessage, toDomainEvent, type DomainEvent } from '@sync/nest-events';

const options = { source: 'urn:svc', origin: 'service:svc', aggregate: 'Customer' };

describe('nest-events: domain events for @nestjs/microservices handlers', () => {
  it('reads a service event back into a typed DomainEvent with every header, where it was read from and its basedOn', () => {
    const message = serviceEventMessage({ id: 'e-1', type: 'CustomerChanged', subject: 'gid-1', data: { name: 'Ada' }, basedOn: 'crm.public.customers@12' }, options, new Date('2026-12-07T00:00:00Z'));
    const raw = { key: Buffer.from(message.key), value: Buffer.from(message.value), headers: message.headers, topic: 'domain.crm.customer', partition: 1, offset: '42' };
    const event = new DomainEventDeserializer().deserialize(raw, { channel: 'domain.crm.customer' });
    assert.equal(event.pattern, 'domain.crm.customer');
    const data = event.data as DomainEvent<{ name: string }>;
    assert.ok(!isInvalidDomainEvent(data));
    assert.deepEqual(
      { id: data.id, type: data.type, subject: data.subject, time: data.time, data: data.data, basedOn: data.basedOn, origin: data.headers[Headers.origin], where: [data.topic, data.partition, data.offset] },
      { id: 'e-1', type: 'CustomerChanged', subject: 'gid-1', time: '2026-12-07T00:00:00.000Z', data: { name: 'Ada' }, basedOn: { system: 'crm', schema: 'public', table: 'customers', position: '12' }, origin: 'service:svc', where: ['domain.crm.customer', 1, '42'] },
    );
  });

  it('turns a message that is not a domain event into an InvalidDomainEvent naming why, never an exception', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ value: Buffer.from('{}'), headers: {} }, /ce_id, ce_source, ce_type, ce_specversion missing/],
      [{ value: Buffer.from('[1]'), headers: { ce_id: 'x', ce_source: 's', ce_type: 't', ce_specversion: '1.0', ce_subject: 'g' } }, /not a JSON object/],
      [{ value: Buffer.from('{"a":1}'), headers: { ce_id: 'x', ce_source: 's', ce_type: 't', ce_specversion: '1.0' } }, /ce_subject missing/],
      [{ value: Buffer.from('{"a":1}'), headers: { ce_id: 'x\u0000', ce_source: 's', ce_type: 't', ce_specversion: '1.0', ce_subject: 'g' } }, /NUL/],
    ];
    for (const [raw, why] of cases) {
      const event = toDomainEvent({ ...raw, topic: 't', partition: 0, offset: '7' });
      assert.ok(isInvalidDomainEvent(event), JSON.stringify(raw.headers));
      assert.match(event.invalid, why);
      assert.equal(event.offset, '7');
    }
  });
});
