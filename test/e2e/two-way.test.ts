import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Headers, Topics, type IdmapLink } from '@sync/contracts';
import { KafkaConnection, silentLog, type SyncProducer } from '@sync/kafka';
import { BASED_ON_EXTENSION, dataSchemaUri, encodeDomainEvent } from '@sync/mapping';
import { testBrokers } from '../support/test-env';
import { TopicCollector, type Collected } from '../support/topic-collector';
import { TwoWayStack } from '../support/two-way-stack';
import { waitFor } from '../support/wait-for';

const SERVICE_ORIGIN = 'svc:profile';

interface DomainEvent {
  readonly type: string;
  readonly subject: string;
  readonly origin: string;
  readonly data: Record<string, unknown>;
}

function domainEvent(c: Collected): DomainEvent {
  const h = c.message.headers;
  return { type: h['ce_type'] ?? '', subject: h['ce_subject'] ?? '', origin: h[Headers.origin] ?? '', data: c.value as Record<string, unknown> };
}

describe('two-way sync: the four apps as processes between a legacy PostgreSQL database and a new service', () => {
  let stack: TwoWayStack;
  let topics: TopicCollector;
  let producer: SyncProducer;
  const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'e2e-new-service' }, silentLog);

  const userTopic = (): string => Topics.domain(stack.userAggregate, 1);
  const orderTopic = (): string => Topics.domain(stack.orderAggregate, 1);
  const legacyUsers = (): string => Topics.legacy({ system: stack.system, schema: 'public', table: 'users' });
  const events = (topic: string): DomainEvent[] => topics.on(topic).map(domainEvent);

  /** What the new service does: publish its own change as a CloudEvent in Kafka binary mode. */
  async function publish(type: string, subject: string, data: Record<string, unknown>, extra: { basedOn?: string; time?: string; id?: string; source?: string } = {}): Promise<string> {
    const id = extra.id ?? randomUUID();
    const encoded = encodeDomainEvent({
      id,
      source: extra.source ?? '/services/profile',
      type,
      subject,
      time: extra.time ?? new Date().toISOString(),
      dataschema: dataSchemaUri(stack.userAggregate, 1, type),
      data,
      ...(extra.basedOn !== undefined && { extensions: { [BASED_ON_EXTENSION]: extra.basedOn } }),
    });
    await producer.send([{ topic: userTopic(), key: encoded.key, value: encoded.value, headers: { ...encoded.headers, [Headers.eventId]: id, [Headers.origin]: SERVICE_ORIGIN, [Headers.causationId]: id } }]);
    return id;
  }

  before(async () => {
    stack = await TwoWayStack.create();
    producer = connection.producer();
    await producer.connect();
    topics = await new TopicCollector().start([userTopic(), orderTopic(), legacyUsers(), Topics.idmapLinks, Topics.conflicts]);
    await stack.startApps();
  });

  after(async () => {
    await topics?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await stack?.close();
  });

  it('legacy inserts and updates become domain events: users as UserChanged + AddressChanged, orders as OrderPlaced with the user global id', async () => {
    const [ada] = await stack.legacy.exec<{ id: number }>(`INSERT INTO users (name, email, street, city, zip) VALUES ('Ada', 'ada@example.org', 'Main St 1', 'Springfield', '12345') RETURNING id`);
    await stack.legacy.exec(`INSERT INTO orders (user_id, total) VALUES ($1, 19.90)`, [ada!.id]);
    const created = await waitFor('UserChanged and AddressChanged for Ada', () => {
      const got = events(userTopic());
      return got.length >= 2 ? got : undefined;
    }, 45_000);
    assert.deepEqual(created.map((e) => e.type).sort(), ['AddressChanged', 'UserChanged']);
    const adaId = created[0]!.subject;
    assert.ok(created.every((e) => e.subject === adaId && e.origin === `legacy:${stack.system}`));
    assert.deepEqual(created.find((e) => e.type === 'AddressChanged')!.data, { street: 'Main St 1', city: 'Springfield', zip: '12345' });
    assert.deepEqual(created.find((e) => e.type === 'UserChanged')!.data, { name: 'Ada', email: 'ada@example.org' });

    const [order] = await waitFor('OrderPlaced', () => (events(orderTopic()).length > 0 ? events(orderTopic()) : undefined), 30_000);
    assert.equal(order!.type, 'OrderPlaced');
    assert.equal(order!.data['userId'], adaId, 'the foreign key arrives as the user global id');
    assert.equal(order!.data['total'], '19.90');

    // Only the address changed: one AddressChanged, no UserChanged.
    await stack.legacy.exec(`UPDATE users SET city = 'Shelbyville', updated_at = now() WHERE id = $1`, [ada!.id]);
    await waitFor('AddressChanged for the move', () => events(userTopic()).some((e) => e.data['city'] === 'Shelbyville') || undefined, 30_000);
    assert.deepEqual(events(userTopic()).slice(2).map((e) => e.type), ['AddressChanged']);
  });

  it("a new service's events become a legacy row with a generated key; later events update that row; nothing echoes back", async () => {
    const userId = randomUUID();
    const before = events(userTopic()).length;
    await publish('UserChanged', userId, { name: 'Grace', email: 'grace@example.org' });
    await publish('AddressChanged', userId, { street: 'Harbour Rd 2', city: 'Arlington', zip: '22201' });

    const link = await waitFor('idmap.links reports the generated key', () => {
      const found = topics.on(Topics.idmapLinks).map((c) => c.value as IdmapLink).find((l) => l.system === stack.system && l.globalId === userId);
      return found;
    }, 45_000);
    const legacyId = Number(link.key['id']);
    assert.ok(Number.isInteger(legacyId) && legacyId > 0, `a generated key: ${JSON.stringify(link.key)}`);
    const row = await waitFor('the address is written to the generated row', async () => {
      const [r] = await stack.legacy.exec<Record<string, unknown>>('SELECT id, name, email, street, city, zip FROM users WHERE id = $1', [legacyId]);
      return r?.['city'] === 'Arlington' ? r : undefined;
    }, 30_000);
    assert.deepEqual(row, { id: legacyId, name: 'Grace', email: 'grace@example.org', street: 'Harbour Rd 2', city: 'Arlington', zip: '22201' });

    // A later event for the same global id is resolved to the generated key: an update, not a second row.
    await publish('AddressChanged', userId, { street: 'Harbour Rd 2', city: 'Alexandria', zip: '22301' });
    await waitFor('the move is written back', async () => {
      const [r] = await stack.legacy.exec<{ city: string }>('SELECT city FROM users WHERE id = $1', [legacyId]);
      return r?.city === 'Alexandria' || undefined;
    }, 30_000);
    const [count] = await stack.legacy.exec<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE name = 'Grace'`);
    assert.equal(count!.n, 1, 'one legacy row for the new user');

    // The write-back's rows were captured with the service's origin, and legacy-import skipped them.
    const logged = await stack.legacy.exec<{ n: number }>(`SELECT count(*)::int AS n FROM sync.public_users_changes WHERE origin = $1`, [SERVICE_ORIGIN]);
    assert.ok(logged[0]!.n >= 2, `write-back changes recorded with their origin (${logged[0]!.n})`);

    // A legacy edit of the new user's row after the write-backs: changes are published in changelog
    // order, so once its event is out, any echo of the write-backs would already have been published.
    await stack.legacy.exec(`UPDATE users SET zip = '22302' WHERE id = $1`, [legacyId]);
    const marker = await waitFor('the legacy edit of the new row reaches the domain topic', () => events(userTopic()).find((e) => e.origin !== SERVICE_ORIGIN && e.data['zip'] === '22302'), 30_000);
    assert.equal(marker.subject, userId, 'the legacy row is known under the global id the service chose');
    assert.equal(marker.type, 'AddressChanged');
    assert.deepEqual(marker.data, { street: 'Harbour Rd 2', city: 'Alexandria', zip: '22302' });

    const legacyEvents = topics.on(legacyUsers()).map((c) => (c.value as { after: { id: number; zip: string } | null }).after);
    assert.deepEqual(
      legacyEvents.filter((a) => a?.id === legacyId).map((a) => a?.zip),
      ['22302'],
      'legacy.* carries only the legacy edit of that row, none of the write-back rows',
    );
    const fromLegacy = events(userTopic()).slice(before).filter((e) => e.origin !== SERVICE_ORIGIN);
    assert.deepEqual(fromLegacy.map((e) => [e.type, e.subject, e.data['zip']]), [['AddressChanged', userId, '22302']], 'no domain event echoed the write-backs');
    assert.equal(await stack.app('legacy-writeback').status('/health/ready'), 200, stack.logs());
  });

  it('a service change based on a legacy version it had not seen is a conflict, resolved by the policy (last-writer-wins here)', async () => {
    const [row] = await stack.legacy.exec<{ id: number }>(`INSERT INTO users (name, email, city) VALUES ('Hedy', 'hedy@example.org', 'Vienna') RETURNING id`);
    const seen = await waitFor('the new row reaches the domain topic with its legacy version', () => events(userTopic()).find((e) => e.data['email'] === 'hedy@example.org'), 30_000);
    const collected = topics.on(userTopic()).find((c) => c.message.headers['ce_subject'] === seen.subject && c.message.headers['ce_legacyversion']);
    const version = collected?.message.headers['ce_legacyversion'];
    assert.match(version ?? '', new RegExp(`^${stack.system}\\.public\\.users@\\d+$`));
    const editedAt = new Date(Date.now() - 60_000).toISOString(); // the service's edit: before the legacy one below

    // A legacy user edits the row; the service, not having seen that yet, renames the user.
    await stack.legacy.exec(`UPDATE users SET name = 'Hedy Lamarr' WHERE id = $1`, [row!.id]);
    await publish('UserChanged', seen.subject, { name: 'Hedy K.', email: 'hedy@example.org' }, { basedOn: version!, time: editedAt });
    const conflict = await waitFor('the conflict on sync.conflicts', () =>
      topics.on(Topics.conflicts).map((c) => c.value as { globalId: string; policy: string; resolution: string; basedOn: string | null; legacy: { row: Record<string, unknown> | null } }).find((c) => c.globalId === seen.subject),
      60_000,
    );
    assert.equal(conflict.policy, 'last-writer-wins');
    assert.equal(conflict.resolution, 'skipped', 'the legacy edit is the later one');
    assert.equal(conflict.basedOn, version!.split('@')[1]);
    assert.equal(conflict.legacy.row?.['name'], 'Hedy Lamarr');
    const [after] = await stack.legacy.exec<{ name: string }>('SELECT name FROM users WHERE id = $1', [row!.id]);
    assert.equal(after!.name, 'Hedy Lamarr', 'the legacy edit stands');

    // The same change based on the version that includes the legacy edit is no conflict and applies.
    const latest = await waitFor('the legacy edit reaches the domain topic', () =>
      topics.on(userTopic()).find((c) => c.message.headers['ce_subject'] === seen.subject && (c.value as Record<string, unknown>)['name'] === 'Hedy Lamarr')?.message.headers['ce_legacyversion'],
      30_000,
    );
    await publish('UserChanged', seen.subject, { name: 'Hedy K.', email: 'hedy@example.org' }, { basedOn: latest });
    await waitFor('the rename is written back', async () => ((await stack.legacy.exec<{ name: string }>('SELECT name FROM users WHERE id = $1', [row!.id]))[0]?.name === 'Hedy K.') || undefined, 30_000);
    assert.equal(topics.on(Topics.conflicts).filter((c) => (c.value as { globalId: string }).globalId === seen.subject).length, 1, 'one conflict only');
  });

  it('two services that each send an event with id 1: both are written back (the command identity is ce_source + ce_id)', async () => {
    const [fromProfile, fromBilling] = [randomUUID(), randomUUID()];
    await publish('UserChanged', fromProfile, { name: 'Katherine', email: 'kj@example.org' }, { id: '1', source: '/services/profile' });
    await publish('UserChanged', fromBilling, { name: 'Dorothy', email: 'dv@example.org' }, { id: '1', source: '/services/billing' });
    const rows = await waitFor('both users are written back', async () => {
      const found = await stack.legacy.exec<{ name: string; email: string }>(`SELECT name, email FROM users WHERE name IN ('Katherine', 'Dorothy') ORDER BY name`);
      return found.length === 2 ? found : undefined;
    }, 60_000);
    assert.deepEqual(rows, [{ name: 'Dorothy', email: 'dv@example.org' }, { name: 'Katherine', email: 'kj@example.org' }]);
    const links = await waitFor('both generated keys on idmap.links', () => {
      const found = topics.on(Topics.idmapLinks).map((c) => c.value as IdmapLink).filter((l) => l.globalId === fromProfile || l.globalId === fromBilling);
      return found.length >= 2 ? found : undefined;
    }, 30_000);
    assert.equal(new Set(links.map((l) => l.commandId)).size, 2, 'two command ids, one per (source, id)');
  });
});
