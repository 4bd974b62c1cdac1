import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Headers, Topics } from '@sync/contracts';
import { KafkaConnection, silentLog, type SyncProducer } from '@sync/kafka';
import { dataSchemaUri, encodeDomainEvent, LEGACY_VERSION_EXTENSION } from '@sync/mapping';
import type { INestMicroservice } from '@nestjs/common';
import { startNewService } from '../../../examples/new-service/src/new-service.app';
import { ServiceRepository, type ServiceEvent } from '../../../examples/new-service/src/service.repository';
import { ServiceStats } from '../../../examples/new-service/src/service-stats';
import { LegacyDatabase } from '../../support/legacy-database';
import { testBrokers, uniqueName } from '../../support/test-env';
import { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';

type Tables = Record<'users' | 'addresses' | 'orders', unknown[]>;

async function tables(db: LegacyDatabase): Promise<Tables> {
  const [users, addresses, orders] = await Promise.all([
    db.exec('SELECT id, name, email, legacy_version FROM users ORDER BY id'),
    db.exec('SELECT user_id, street, city, zip FROM addresses ORDER BY user_id'),
    db.exec('SELECT id, user_id, total::text, placed_at FROM orders ORDER BY id'),
  ]);
  return { users, addresses, orders };
}

/** A pseudo-random sequence of events over a few keys (seeded: a failure can be replayed). */
function randomEvents(seed: number, count: number): ServiceEvent[] {
  let s = seed;
  const next = (n: number): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
  const types = ['UserChanged', 'UserChanged', 'AddressChanged', 'AddressChanged', 'UserRemoved', 'OrderPlaced', 'OrderRemoved', 'Unknown'];
  return Array.from({ length: count }, (_, i) => {
    const type = types[next(types.length)]!;
    const subject = type.startsWith('Order') ? `o${next(3)}` : `u${next(4)}`;
    const data = { name: `n${i}`, email: next(2) === 0 ? null : `e${i}`, street: `s${i}`, city: 'c', zip: String(i), userId: `u${next(4)}`, total: `${i}.50`, placedAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString() };
    return { id: `ev-${seed}-${i}`, type, subject, data, ...(next(3) > 0 && { legacyVersion: `v${i}` }) };
  });
}

describe('sample new service: a batch written set-based (real PostgreSQL, real Kafka)', () => {
  const dbs: LegacyDatabase[] = [];
  const repositories: ServiceRepository[] = [];

  async function serviceDb(): Promise<{ db: LegacyDatabase; repository: ServiceRepository }> {
    const db = await LegacyDatabase.create('svc_batch');
    dbs.push(db);
    const repository = new ServiceRepository(db.url);
    repositories.push(repository);
    await repository.connect();
    return { db, repository };
  }

  after(async () => {
    await Promise.all(repositories.map((r) => r.close().catch(() => undefined)));
    await Promise.all(dbs.map((d) => d.drop().catch(() => undefined)));
  });

  it('applies the last of several events of the same key, and a redelivered batch has no effect', async () => {
    const { db, repository } = await serviceDb();
    const batchA: ServiceEvent[] = [
      { id: 'a1', type: 'UserChanged', subject: 'g1', data: { name: 'first', email: 'first@x' }, legacyVersion: 'crm.public.users@1' },
      { id: 'a2', type: 'AddressChanged', subject: 'g1', data: { street: '1 First St', city: 'A', zip: '1' }, legacyVersion: 'crm.public.users@1' },
      { id: 'a3', type: 'UserChanged', subject: 'g1', data: { name: 'second', email: 'second@x' }, legacyVersion: 'crm.public.users@2' },
      { id: 'a4', type: 'UserChanged', subject: 'g2', data: { name: 'other', email: null } },
      { id: 'a5', type: 'UserChanged', subject: 'g1', data: { name: 'third', email: 'third@x' }, legacyVersion: 'crm.public.users@3' },
      { id: 'a6', type: 'AddressChanged', subject: 'g1', data: { street: '3 Third St', city: 'C', zip: '3' }, legacyVersion: 'crm.public.users@3' },
      { id: 'a7', type: 'OrderPlaced', subject: 'o1', data: { userId: 'g1', total: '10.00', placedAt: '2026-01-01T00:00:00.000Z' } },
      { id: 'a8', type: 'OrderPlaced', subject: 'o1', data: { userId: 'g1', total: '12.50', placedAt: '2026-01-02T00:00:00.000Z' } },
    ];
    assert.deepEqual(await repository.apply(batchA), batchA.map((e) => e.type));
    const afterA = await tables(db);
    assert.deepEqual(afterA.users, [
      { id: 'g1', name: 'third', email: 'third@x', legacy_version: 'crm.public.users@3' },
      { id: 'g2', name: 'other', email: null, legacy_version: null },
    ]);
    assert.deepEqual(afterA.addresses, [{ user_id: 'g1', street: '3 Third St', city: 'C', zip: '3' }]);
    assert.deepEqual(afterA.orders, [{ id: 'o1', user_id: 'g1', total: '12.50', placed_at: new Date('2026-01-02T00:00:00.000Z') }]);

    // A later change, then batch A again (a consumer that crashed before committing): nothing of A comes back.
    await repository.apply([{ id: 'b1', type: 'UserChanged', subject: 'g1', data: { name: 'fourth', email: 'fourth@x' }, legacyVersion: 'crm.public.users@4' }]);
    assert.deepEqual(await repository.apply(batchA), []);
    assert.deepEqual(await repository.apply([...batchA, ...batchA]), []);
    const afterRedelivery = await tables(db);
    assert.deepEqual(afterRedelivery.users[0], { id: 'g1', name: 'fourth', email: 'fourth@x', legacy_version: 'crm.public.users@4' });
    assert.deepEqual({ ...afterRedelivery, users: afterRedelivery.users.slice(1) }, { ...afterA, users: afterA.users.slice(1) });
    assert.deepEqual(await db.exec('SELECT count(*)::int AS n FROM processed_events'), [{ n: 9 }]);
  });

  it('ends on the same tables as applying the events one by one, for any mix of types and keys', async () => {
    const one = await serviceDb();
    const whole = await serviceDb();
    for (const seed of [11, 29, 4242]) {
      const events = randomEvents(seed, 60);
      for (const e of events) await one.repository.apply([e]);
      // The same events in uneven batches, one of them repeating part of the previous (a redelivery).
      await whole.repository.apply(events.slice(0, 25));
      await whole.repository.apply(events.slice(10, 45));
      await whole.repository.apply(events.slice(45));
      assert.deepEqual(await tables(whole.db), await tables(one.db), `seed ${seed}`);
    }
  });

  describe('as a NestJS microservice on Kafka (@EventPattern, DomainEventsBatchServer)', () => {
    const kafka = new KafkaConnection({ brokers: testBrokers(), clientId: 'it-new-service-batch' }, silentLog);
    const aggregate = uniqueName('svcbatch').toLowerCase();
    const userTopic = Topics.domain(aggregate, 1);
    const orderTopic = Topics.domain(`${aggregate}o`, 1);
    const origin = 'service:it';
    const dlq = new TopicCollector();
    let producer: SyncProducer;
    let app: INestMicroservice | undefined;

    before(async () => {
      producer = kafka.producer();
      await producer.connect();
      const admin = kafka.admin();
      await admin.ensureTopics([{ topic: userTopic }, { topic: orderTopic }, { topic: Topics.dlq('new-service') }]);
      await admin.disconnect();
      await dlq.start([Topics.dlq('new-service')]);
    });

    after(async () => {
      await app?.close().catch(() => undefined);
      await dlq.stop().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
    });

    const record = (id: string, subject: string, name: string, legacyVersion: string, from = 'legacy:crm') => {
      const encoded = encodeDomainEvent({
        id,
        source: '/legacy/crm',
        type: 'UserChanged',
        subject,
        time: new Date().toISOString(),
        dataschema: dataSchemaUri(aggregate, 1, 'UserChanged'),
        data: { name, email: `${name}@x` },
        extensions: { [LEGACY_VERSION_EXTENSION]: legacyVersion },
      });
      return { topic: userTopic, key: encoded.key, value: encoded.value, headers: { ...encoded.headers, [Headers.eventId]: id, [Headers.origin]: from, [Headers.causationId]: id } };
    };

    it('consumes a backlog in batches, keeps the last event per key, dead-letters a bad message without blocking the rest, skips its own events, and a redelivered backlog changes nothing', async () => {
      const db = await LegacyDatabase.create('svc_batch');
      dbs.push(db);
      // 300 changes of 3 users, on the topic before the service starts: it reads them as a backlog.
      const backlog = Array.from({ length: 300 }, (_, i) => record(randomUUID(), `g${i % 3}`, `name-${i}`, `crm.public.users@${i}`));
      const bad = { topic: userTopic, key: 'g0', value: '{"name":"no CloudEvent headers"}', headers: { [Headers.origin]: 'legacy:crm' } };
      // Its own change coming back: already applied when it made it, never written again.
      const own = record(randomUUID(), 'g-own', 'own', 'crm.public.users@1', origin);
      await producer.send([...backlog.slice(0, 100), bad, own, ...backlog.slice(100)]);
      const groupId = uniqueName('it-svc');
      app = await startNewService({
        brokers: testBrokers(),
        clientId: 'it-new-service',
        databaseUrl: db.url,
        userTopic,
        orderTopic,
        userAggregate: aggregate,
        source: '/services/it',
        origin,
        groupId,
        concurrency: 2,
        log: silentLog,
      });
      const stats = app.get(ServiceStats);
      const seen = async (): Promise<number> => {
        const text = await stats.metrics.render();
        return [...text.matchAll(/^\S*service_events_seen_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
      };
      const expected = [
        { id: 'g0', name: 'name-297', email: 'name-297@x', legacy_version: 'crm.public.users@297' },
        { id: 'g1', name: 'name-298', email: 'name-298@x', legacy_version: 'crm.public.users@298' },
        { id: 'g2', name: 'name-299', email: 'name-299@x', legacy_version: 'crm.public.users@299' },
      ];
      await waitFor('the last change of each user applied', async () => JSON.stringify((await tables(db)).users) === JSON.stringify(expected), 90_000, 200);
      const letter = await waitFor('the bad message dead-lettered', async () =>
        dlq.items.find((c) => c.message.headers['dlq-source-topic'] === userTopic),
      );
      assert.equal(letter.message.headers['dlq-app'], 'new-service');
      assert.equal(letter.message.headers['dlq-error-kind'], 'data');
      assert.equal(letter.message.value?.toString(), bad.value);

      // The backlog's first 150 events once more, after the last: already applied, they change nothing.
      await producer.send(backlog.slice(0, 150));
      await waitFor('the redelivered events read', async () => (await seen()) >= 450, 60_000, 200);
      // Offsets are committed only once a batch is written: no lag left means every batch was applied.
      const admin = kafka.admin();
      try {
        await waitFor('the group caught up (offsets committed)', async () => (await admin.groupLag(groupId, userTopic)) === 0, 60_000, 200);
      } finally {
        await admin.disconnect();
      }
      assert.deepEqual((await tables(db)).users, expected);
      assert.deepEqual(await db.exec('SELECT count(*)::int AS n FROM processed_events'), [{ n: 300 }]);
      assert.equal(dlq.items.filter((c) => c.message.headers['dlq-source-topic'] === userTopic).length, 1);
    });
  });
});
