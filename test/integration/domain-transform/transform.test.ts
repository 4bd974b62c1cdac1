import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import { parseWritebackRequest, Topics } from '@sync/contracts';
import { DLQ_HEADERS, KafkaConnection, silentLog, type BatchConsumerRunner, type InboundMessage, type SyncProducer, type TopicAdmin } from '@sync/kafka';
import { loadMappings, MapperRegistry, MappingEngine } from '@sync/mapping';
import { MetricsRegistry } from '@sync/observability';
import { TransformConsumer } from '../../../apps/domain-transform/src/transform.consumer';
import { TransformMetrics } from '../../../apps/domain-transform/src/transform-metrics';
import { repoRoot, testBrokers, uniqueName } from '../../support/test-env';
import { waitFor } from '../../support/wait-for';

// Unique system and aggregate names give this run its own keyed.*, domain.* and writeback.* topics.
const tag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const CRM = `crm_${tag}`;
const ERP = `erp_${tag}`;
const AGG = `user_${tag}`;
const yaml = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'mappings', 'users.pipeline.yaml'), 'utf8')
  .replace(/\bcrm\b/g, CRM)
  .replace(/\berp\b/g, ERP)
  .replace(/aggregate: user\b/g, `aggregate: ${AGG}`)
  // A mapping that runs away (endless tail recursion) on one value only: the time budget test.
  .replace('city: city\n          zip', 'city: "city = \\"loop\\" ? ($l := function($n){ $l($n + 1) }; $l(0)) : city"\n          zip');

const USERS = Topics.keyed({ system: CRM, schema: 'public', table: 'users' });
const DOMAIN = Topics.domain(AGG, 1);
const WRITEBACK = Topics.writeback({ system: CRM, schema: 'public', table: 'users' });
const DLQ = Topics.dlq('domain-transform');

const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'it-domain-transform' }, silentLog);
const metrics = new MetricsRegistry('domain-transform');
let producer: SyncProducer;
let admin: TopicAdmin;
let transform: TransformConsumer;
const readers: BatchConsumerRunner[] = [];

/** Collects everything written to `topic` from the beginning, while the test runs. */
async function collect(topic: string): Promise<InboundMessage[]> {
  const seen: InboundMessage[] = [];
  const reader = connection.batchConsumer(producer, { app: 'it-reader', groupId: uniqueName('reader'), topics: [topic], handler: async (batch) => void seen.push(...batch) });
  readers.push(reader);
  await reader.start();
  return seen;
}

function change(op: 'c' | 'u' | 'd', position: string, before: object | null, after: object | null): string {
  return JSON.stringify({ op, before, after, source: { system: CRM, schema: 'public', table: 'users', position, committedAt: '2025-01-02T03:04:05.000Z', txId: null }, ts_ms: 1, globalId: 'gid-42', references: { manager_id: null } });
}

function ceHeaders(type: string, id: string, origin: string): Record<string, string> {
  return { ce_id: id, ce_source: '/services/profile', ce_type: type, ce_specversion: '1.0', ce_subject: 'gid-42', ce_time: '2025-03-01T00:00:00.000Z', 'content-type': 'application/json', origin, 'causation-id': `cmd-${id}` };
}

const row = { id: 42, name: 'Ada', email: 'ada@example.org', street: '1 Main St', city: 'Leeds', zip: 12345, active: 1, manager_id: null };

describe('domain-transform on the real broker', () => {
  let domainOut: InboundMessage[];
  let writebacks: InboundMessage[];
  let dlq: InboundMessage[];

  before(async () => {
    producer = connection.producer();
    await producer.connect();
    admin = connection.admin();
    const mappers = new MapperRegistry();
    const engine = new MappingEngine(loadMappings(parsePipeline(yaml, 'it.yaml'), mappers), mappers);
    transform = new TransformConsumer(engine, connection, producer, admin, { app: 'domain-transform', groupPrefix: uniqueName('dt'), log: silentLog, metrics: new TransformMetrics(metrics) });
    await transform.start();
    await waitFor('transform consumers assigned', () => transform.problem() === undefined, 60_000);
    [domainOut, writebacks, dlq] = await Promise.all([collect(DOMAIN), collect(WRITEBACK), collect(DLQ)]);
  });

  after(async () => {
    await transform.stop();
    for (const r of readers) await r.stop().catch(() => undefined);
    await producer.disconnect();
    await admin.disconnect();
  });

  it('turns keyed changes into CloudEvents in binary mode, dead-letters a malformed one, and keeps going', async () => {
    await producer.send([
      { topic: USERS, key: 'gid-42', value: change('c', '1', null, row), headers: { 'event-id': 'evt-1', origin: `legacy:${CRM}` } },
      { topic: USERS, key: 'gid-42', value: '{"op": "c", broken', headers: { 'event-id': 'evt-bad' } },
      { topic: USERS, key: 'gid-42', value: change('u', '2', row, { ...row, city: 'York' }), headers: { 'event-id': 'evt-2', origin: `legacy:${CRM}` } },
      // A row the suite wrote for a new service: must not come back as a fresh domain event.
      { topic: USERS, key: 'gid-42', value: change('u', '3', { ...row, city: 'York' }, { ...row, city: 'York', name: 'Written by profile' }), headers: { 'event-id': 'evt-3', origin: 'service:profile' } },
      { topic: USERS, key: 'gid-42', value: change('u', '4', { ...row, city: 'York' }, { ...row, city: 'Hull' }), headers: { 'event-id': 'evt-4', origin: `legacy:${CRM}` } },
    ]);
    await waitFor('4 domain events', () => domainOut.length >= 4, 30_000);
    assert.deepEqual(domainOut.map((m) => m.headers['ce_type']), ['UserChanged', 'AddressChanged', 'AddressChanged', 'AddressChanged']);
    assert.deepEqual(domainOut.map((m) => m.headers['causation-id']), ['evt-1', 'evt-1', 'evt-2', 'evt-4'], 'the service-origin change evt-3 produced nothing');
    const first = domainOut[0]!;
    assert.equal(first.key?.toString(), 'gid-42');
    assert.equal(first.headers['ce_specversion'], '1.0');
    assert.equal(first.headers['ce_subject'], 'gid-42');
    assert.equal(first.headers['ce_source'], `/legacy-sync/${CRM}/public/users`);
    assert.equal(first.headers['ce_time'], '2025-01-02T03:04:05.000Z');
    assert.equal(first.headers['ce_dataschema'], `urn:legacy-sync:schema:${AGG}:v1:UserChanged`);
    assert.equal(first.headers['content-type'], 'application/json');
    assert.match(first.headers['ce_id'] ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(first.headers['origin'], `legacy:${CRM}`);
    assert.deepEqual(JSON.parse(first.value?.toString() ?? ''), { name: 'Ada', email: 'ada@example.org', active: true, managerId: null });
    assert.deepEqual(JSON.parse(domainOut[3]!.value?.toString() ?? ''), { street: '1 Main St', city: 'Hull', zip: '12345' });

    const dead = await waitFor('the malformed change in the DLQ', () => {
      const found = dlq.filter((m) => m.headers[DLQ_HEADERS.sourceTopic] === USERS);
      return found.length > 0 ? found : undefined;
    });
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.headers['event-id'], 'evt-bad');
    assert.match(dead[0]!.headers[DLQ_HEADERS.reason] ?? '', /not valid JSON/);
  });

  it('turns new-service events into write-back requests, never sends legacy-origin events back, and dead-letters bad events', async () => {
    await producer.send([
      { topic: DOMAIN, key: 'gid-42', value: JSON.stringify({ name: 'Ada Lovelace', email: 'ada@lovelace.org', active: true }), headers: ceHeaders('UserChanged', 'ce-1', 'service:profile') },
      { topic: DOMAIN, key: 'gid-42', value: JSON.stringify({ name: 'Echo', email: null, active: true }), headers: ceHeaders('UserChanged', 'ce-legacy', `legacy:${CRM}`) },
      { topic: DOMAIN, key: 'gid-42', value: '{"name": ', headers: ceHeaders('UserChanged', 'ce-malformed', 'service:profile') },
      { topic: DOMAIN, key: 'gid-42', value: JSON.stringify({ name: 42, active: 'yes' }), headers: ceHeaders('UserChanged', 'ce-invalid', 'service:profile') },
      { topic: DOMAIN, key: 'gid-42', value: JSON.stringify({}), headers: ceHeaders('UserTeleported', 'ce-unknown', 'service:profile') },
      { topic: DOMAIN, key: 'gid-42', value: JSON.stringify({}), headers: ceHeaders('UserRemoved', 'ce-2', 'service:profile') },
    ]);
    await waitFor('write-back of the last good event', () => writebacks.some((m) => m.headers['causation-id'] === 'ce-2'), 30_000);
    // Everything before ce-2 on the partition has been processed by now, including the events of
    // the first test (origin legacy) and ce-legacy: none of them may have become a write-back.
    const requests = writebacks.map((m) => parseWritebackRequest(JSON.parse(m.value?.toString() ?? '')));
    assert.deepEqual(requests.map((r) => [r.causationId, r.op]), [['ce-1', 'upsert'], ['ce-2', 'delete']]);
    const [upsert] = requests;
    assert.deepEqual(upsert!.columns, { name: 'Ada Lovelace', email: 'ada@lovelace.org', active: 1 });
    assert.equal(upsert!.globalId, 'gid-42');
    assert.equal(upsert!.origin, 'service:profile');
    assert.equal(writebacks[0]!.key?.toString(), 'gid-42');
    assert.equal(writebacks[0]!.headers['origin'], 'service:profile');

    const dead = await waitFor('3 bad domain events in the DLQ', () => {
      const found = dlq.filter((m) => m.headers[DLQ_HEADERS.sourceTopic] === DOMAIN);
      return found.length >= 3 ? found : undefined;
    });
    const reasons = new Map(dead.map((m) => [m.headers['ce_id'], m.headers[DLQ_HEADERS.reason] ?? '']));
    assert.match(reasons.get('ce-malformed') ?? '', /not valid JSON/);
    assert.match(reasons.get('ce-invalid') ?? '', /does not match its schema.*\/name must be string/);
    assert.match(reasons.get('ce-unknown') ?? '', /unknown event type UserTeleported/);
    assert.equal(dead.length, 3);
  });

  it('counts what it did in the metrics registry', async () => {
    const text = await metrics.render();
    assert.match(text, /sync_transform_dead_letters_total\{direction="new-to-legacy",kind="data",app="domain-transform"\} 3/);
    assert.match(text, /sync_transform_skipped_total\{direction="legacy-to-new",rule="users",reason="echo",app="domain-transform"\} 1/);
    assert.match(text, /sync_transform_outputs_total\{direction="legacy-to-new",rule="users.AddressChanged",app="domain-transform"\} 3/);
  });

  // After the metrics test: these add dead letters of their own.
  it('a mapping that exceeds its time budget dead-letters that message, naming the mapping path; the next one on the partition is transformed', async () => {
    await producer.send([
      { topic: USERS, key: 'gid-42', value: change('c', '1', null, { ...row, city: 'loop' }), headers: { 'event-id': 'runaway' } },
      { topic: USERS, key: 'gid-42', value: change('c', '2', null, { ...row, city: 'York' }), headers: { 'event-id': 'next' } },
    ]);
    const dead = await waitFor('the runaway change in the DLQ', () => dlq.find((m) => m.headers[DLQ_HEADERS.sourceTopic] === USERS && m.headers['event-id'] === 'runaway'), 60_000);
    assert.equal(dead.headers[DLQ_HEADERS.errorKind], 'data');
    assert.match(dead.headers[DLQ_HEADERS.reason] ?? '', /fields\.city: .*(timeout|budget)/i);
    const address = await waitFor('the next change transformed', () => domainOut.find((m) => m.headers['causation-id'] === 'next' && m.headers['ce_type'] === 'AddressChanged'), 60_000);
    assert.equal((JSON.parse(address.value!.toString()) as { city: string }).city, 'York');
  });

  it('a NUL in ce_subject dead-letters that domain event, naming the header; the next one is written back', async () => {
    await producer.send([
      { topic: DOMAIN, key: 'gid-42', value: JSON.stringify({ name: 'Eve', email: 'e@x', active: true }), headers: { ...ceHeaders('UserChanged', 'nul-1', 'service:profile'), ce_subject: 'gid-\u000042' } },
      { topic: DOMAIN, key: 'gid-42', value: JSON.stringify({ name: 'Ada', email: 'a@x', active: true }), headers: ceHeaders('UserChanged', 'ok-1', 'service:profile') },
    ]);
    const dead = await waitFor('the NUL event in the DLQ', () => dlq.find((m) => m.headers[DLQ_HEADERS.sourceTopic] === DOMAIN && m.headers['ce_id'] === 'nul-1'), 30_000);
    assert.equal(dead.headers[DLQ_HEADERS.errorKind], 'data');
    assert.match(dead.headers[DLQ_HEADERS.reason] ?? '', /header ce_subject.*NUL/);
    const wb = await waitFor('write-back of the good event', () => writebacks.find((m) => m.headers['causation-id'] === 'ok-1'), 30_000);
    assert.equal(parseWritebackRequest(JSON.parse(wb.value!.toString())).globalId, 'gid-42');
  });

  it('a batch with a bad message in the middle: only it is dead-lettered, the others are produced in order, and each skip is counted once', async () => {
    const echoSkips = async (): Promise<number> => Number(/sync_transform_skipped_total\{direction="legacy-to-new",rule="users",reason="echo",app="domain-transform"\} (\d+)/.exec(await metrics.render())?.[1] ?? 0);
    const skipsBefore = await echoSkips();
    // dlq.domain-transform outlives a run on a shared broker: this run's ids only.
    const mid = `mid-${Date.now().toString(36)}-`;
    const moved = (position: string, city: string): string => change('u', position, { ...row, city: 'Leeds' }, { ...row, city });
    // One send: one record batch, fetched and handed to the transform as one batch.
    await producer.send([
      { topic: USERS, key: 'gid-42', value: moved('10', 'Bath'), headers: { 'event-id': `${mid}1`, origin: `legacy:${CRM}` } },
      { topic: USERS, key: 'gid-42', value: moved('11', 'Echo'), headers: { 'event-id': `${mid}echo`, origin: 'service:profile' } },
      { topic: USERS, key: 'gid-42', value: '{"op": "u", broken', headers: { 'event-id': `${mid}bad` } },
      { topic: USERS, key: 'gid-42', value: moved('12', 'Cork'), headers: { 'event-id': `${mid}2`, origin: `legacy:${CRM}` } },
      { topic: USERS, key: 'gid-42', value: moved('13', 'Derby'), headers: { 'event-id': `${mid}3`, origin: `legacy:${CRM}` } },
    ]);
    await waitFor('the events of mid-3', () => domainOut.some((m) => m.headers['causation-id'] === `${mid}3`), 30_000);
    const ours = domainOut.filter((m) => (m.headers['causation-id'] ?? '').startsWith(mid));
    assert.deepEqual(ours.map((m) => [m.headers['causation-id'], (JSON.parse(m.value!.toString()) as { city: string }).city]), [[`${mid}1`, 'Bath'], [`${mid}2`, 'Cork'], [`${mid}3`, 'Derby']]);
    const dead = await waitFor('the bad change in the DLQ', () => dlq.find((m) => m.headers['event-id'] === `${mid}bad`), 30_000);
    assert.equal(dead.headers[DLQ_HEADERS.errorKind], 'data');
    assert.equal(dlq.filter((m) => (m.headers['event-id'] ?? '').startsWith(mid)).length, 1, 'only the bad one is dead-lettered');
    // The batch failed at mid-bad and was replayed message by message: the echo skip counts once.
    assert.equal(await echoSkips(), skipsBefore + 1);
  });
});
