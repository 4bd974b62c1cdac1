import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { Headers } from '@sync/contracts';
import { KafkaConnection, silentLog, type SyncProducer } from '@sync/kafka';
import { decodeDomainEvent, encodeDomainEvent } from '@sync/mapping';
import { domainEventsTransport, ServiceEvents } from '@sync/nest-events';
import { CustomerServiceModule } from '../../examples/nest-consumer/src/customer-service.module';
import { CustomerStore } from '../../examples/nest-consumer/src/customer.store';
import { LegacyDatabase } from '../support/legacy-database';
import { testBrokers, uniqueName } from '../support/test-env';
import { TopicCollector } from '../support/topic-collector';
import { waitFor } from '../support/wait-for';

// A NestJS service written the way a Nest team would (examples/nest-consumer): @EventPattern on
// the suite's domain topic through @nestjs/microservices' Kafka transport, exactly once per event
// id, own changes sent with ClientKafka. Real broker, real PostgreSQL.
describe('a NestJS service on @nestjs/microservices consumes the domain events', () => {
  const topic = uniqueName('domain.crm.customer');
  const origin = 'service:nest-it';
  const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'nest-it' }, silentLog);
  let producer: SyncProducer;
  let db: LegacyDatabase;
  let app: INestMicroservice;
  let store: CustomerStore;
  const collector = new TopicCollector();

  const event = (id: string, subject: string, data: Record<string, unknown>, legacyVersion?: string) => {
    const encoded = encodeDomainEvent({
      id,
      source: 'urn:legacy-sync:crm',
      type: 'CustomerChanged',
      subject,
      time: '2026-12-07T00:00:00.000Z',
      dataschema: 'urn:legacy-sync:schema:Customer:v1:CustomerChanged',
      data,
      ...(legacyVersion !== undefined && { extensions: { legacyversion: legacyVersion } }),
    });
    return { topic, key: encoded.key, value: encoded.value, headers: { ...encoded.headers, [Headers.eventId]: id } };
  };

  before(async () => {
    db = await LegacyDatabase.create('nestsvc');
    const admin = connection.admin();
    await admin.connect();
    await admin.ensureTopics([{ topic, partitions: 2 }]);
    await admin.disconnect();
    producer = connection.producer();
    await producer.connect();
    const brokers = testBrokers();
    app = await NestFactory.createMicroservice(
      CustomerServiceModule.forRoot({ brokers, topic, databaseUrl: db.url, clientId: 'nest-it', source: 'urn:nest-it', origin }),
      { ...domainEventsTransport({ brokers, clientId: 'nest-it', groupId: uniqueName('nest-it') }), logger: ['error', 'warn'] },
    );
    await app.listen();
    store = app.get(CustomerStore);
    await collector.start([topic]);
  });

  after(async () => {
    await app?.close();
    await collector.stop();
    await producer?.disconnect();
    await db?.drop();
  });

  it('hands @EventPattern a typed CloudEvent with its headers, applies each event id once, and skips a bad message without blocking the ones behind it', async () => {
    await producer.send([
      event('e-1', 'gid-a', { name: 'Ada', email: 'ada@example.org' }, 'crm.public.customers@101'),
      { topic, key: 'gid-a', value: '{"name":"no CloudEvent headers"}', headers: {} },
      event('e-2', 'gid-a', { name: 'Ada L.', email: 'ada@example.org' }, 'crm.public.customers@102'),
      // Redelivered (same id): must change nothing.
      event('e-2', 'gid-a', { name: 'Ada L.', email: 'ada@example.org' }, 'crm.public.customers@102'),
      event('e-3', 'gid-b', { name: 'Grace', email: null }),
    ]);
    const a = await waitFor('gid-a at its second event', async () => {
      const row = await store.get('gid-a');
      return row?.legacy_version === 'crm.public.customers@102' ? row : undefined;
    }, 60_000);
    const b = await waitFor('gid-b applied', () => store.get('gid-b'), 60_000);
    assert.deepEqual({ name: a.name, email: a.email, applied: a.applied_events }, { name: 'Ada L.', email: 'ada@example.org', applied: 2 });
    assert.deepEqual({ name: b.name, email: b.email, applied: b.applied_events }, { name: 'Grace', email: null, applied: 1 });
    const processed = await db.exec<{ event_id: string }>('SELECT event_id FROM processed_event ORDER BY 1');
    assert.deepEqual(processed.map((r) => r.event_id), ['e-1', 'e-2', 'e-3']);
  });

  it('sends the service change with ClientKafka as a CloudEvent the reverse path reads, and skips it when it comes back', async () => {
    const events = app.get(ServiceEvents);
    await events.send(topic, { id: 'svc-1', type: 'CustomerChanged', subject: 'gid-b', data: { name: 'Grace H.', email: 'grace@example.org' }, basedOn: 'crm.public.customers@7' });
    const sent = await waitFor('the service event on the topic', () => collector.on(topic).find((c) => c.message.headers['ce_id'] === 'svc-1'), 60_000);
    const decoded = decodeDomainEvent(sent.message);
    assert.equal(decoded.subject, 'gid-b');
    assert.deepEqual(decoded.data, { name: 'Grace H.', email: 'grace@example.org' });
    assert.deepEqual(decoded.basedOn, { system: 'crm', schema: 'public', table: 'customers', position: '7' });
    assert.equal(sent.message.headers[Headers.origin], origin);
    assert.equal(sent.message.headers[Headers.eventId], 'svc-1');
    // A later event proves the consumer has passed the service's own one: that one changed nothing.
    await producer.send([event('e-4', 'gid-c', { name: 'Edsger' })]);
    await waitFor('gid-c applied', () => store.get('gid-c'), 60_000);
    const b = await store.get('gid-b');
    assert.deepEqual({ name: b?.name, applied: b?.applied_events }, { name: 'Grace', applied: 1 });
    const processed = await db.exec<{ event_id: string }>(`SELECT event_id FROM processed_event WHERE event_id = 'svc-1'`);
    assert.equal(processed.length, 0);
  });

  it('an error in the handler (the service database refuses the write) is not committed: the event is delivered again and applied once', async () => {
    await db.exec('ALTER TABLE nest_customer RENAME TO nest_customer_away');
    try {
      await producer.send([event('e-5', 'gid-e', { name: 'Barbara' })]);
      // The handler fails (relation does not exist) and its transaction rolls back, event id included.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      assert.equal((await db.exec(`SELECT 1 FROM processed_event WHERE event_id = 'e-5'`)).length, 0);
    } finally {
      await db.exec('ALTER TABLE nest_customer_away RENAME TO nest_customer');
    }
    const e = await waitFor('gid-e applied after the table came back', () => store.get('gid-e'), 120_000);
    assert.deepEqual({ name: e.name, applied: e.applied_events }, { name: 'Barbara', applied: 1 });
  });
});
