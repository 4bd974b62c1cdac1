import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudEvent, Kafka, ValidationError, type KafkaMessage } from 'cloudevents';
import { ContractError } from '@sync/contracts';
import { decodeDomainEvent, encodeDomainEvent, type DomainEventAttributes } from '@sync/mapping';
import { parseLegacyVersion } from '../../../libs/mapping/src/cloud-event.codec';

/** The encoding as it was before the lean encoder: every event through the CloudEvents SDK. */
function sdkEncoding(attrs: DomainEventAttributes): { key: string; value: string; headers: Record<string, string> } {
  const { extensions, ...core } = attrs;
  const event = new CloudEvent({ ...extensions, ...core, specversion: '1.0', datacontenttype: 'application/json', data: attrs.data });
  const message = Kafka.binary(event);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (typeof value === 'string' && name !== 'ce_datacontenttype' && name !== 'ce_partitionkey') headers[name] = value;
  }
  return { key: attrs.subject, value: JSON.stringify(attrs.data), headers };
}

/** What reaches Kafka: key, value and the headers in their order. */
const bytes = (e: { key: string; value: string; headers: Record<string, string> }): unknown => [e.key, e.value, Object.entries(e.headers)];

function outcome(encode: () => unknown): unknown {
  try {
    return bytes(encode() as { key: string; value: string; headers: Record<string, string> });
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
}

const tag = Date.now().toString(36);
const base: DomainEventAttributes = {
  id: '3f1b1c2e-7d0a-5e8f-9a4b-1c2d3e4f5a6b',
  source: `/legacy-sync/crm_${tag}/public/users`,
  type: 'UserChanged',
  subject: 'gid-42',
  time: '2025-01-02T03:04:05.000Z',
  dataschema: `urn:legacy-sync:schema:user_${tag}:v1:UserChanged`,
  data: { name: 'Ada', email: null, zip: '01234', amount: 12.5, nested: { a: [1, 'two', null] }, text: 'ünïcødé "quoted"\n' },
  extensions: { legacyversion: `crm_${tag}.public.users@100` },
};

const VARIANTS: ReadonlyArray<Partial<DomainEventAttributes>> = [
  {},
  { data: {} },
  { subject: 'gid with spaces/and:colons' },
  { time: '0001-01-01T00:00:00.000Z' },
  { time: '9999-12-31T23:59:59.999Z' },
  { time: '2024-02-29T12:00:00.000Z' },
  { extensions: { legacyversion: 'crm.public.users@1', basedon: 'crm.public.users@0' } },
  { extensions: { basedon: 'crm.public.users@0', legacyversion: 'crm.public.users@1' } },
  { extensions: {} },
  { extensions: { legacyversion: '' } },
  // Outside what the lean encoder vouches for: the SDK decides, with its own output or error.
  { time: '2025-01-02T03:04:05Z' },
  { time: '2025-01-02T03:04:05.000+01:00' },
  { time: '2025-02-30T00:00:00.000Z' },
  { time: 'yesterday' },
  { subject: '' },
  // (An empty id is left to the SDK too, which then invents a random one: not comparable here.)
  { extensions: { LegacyVersion: 'x' } },
  { extensions: { partitionkey: 'x' } },
  { source: 'not a uri reference with spaces' },
  { dataschema: 'no-scheme' },
  { type: '' },
];

describe('CloudEvents encoding without the SDK', () => {
  it('gives the SDK encoding byte for byte (headers in the same order), on first sight of the attributes and after', () => {
    for (const variant of VARIANTS) {
      const attrs = { ...base, ...variant };
      const expected = outcome(() => sdkEncoding(attrs));
      // Twice: the first call of a source/type/dataschema goes through the SDK, the second does not.
      assert.deepEqual(outcome(() => encodeDomainEvent(attrs)), expected, `first: ${JSON.stringify(variant)}`);
      assert.deepEqual(outcome(() => encodeDomainEvent(attrs)), expected, `again: ${JSON.stringify(variant)}`);
    }
  });

  it('does not build an SDK CloudEvent per event once the source, type and dataschema were validated', (t) => {
    const binary = t.mock.method(Kafka, 'binary');
    const attrs = { ...base, type: `Fresh${tag}` };
    encodeDomainEvent(attrs);
    assert.equal(binary.mock.callCount(), 1, 'first sight: validated by the SDK');
    for (let i = 0; i < 100; i++) encodeDomainEvent({ ...attrs, id: `id-${i}`, subject: `gid-${i}`, time: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString() });
    assert.equal(binary.mock.callCount(), 1, 'then no SDK call per event');
  });
});

type Message = { key: Buffer | string | null; value: Buffer | string | null; headers: Record<string, string> };

/** The decoding as it was before the lean decoder (after the suite's own header checks): through the SDK. */
function sdkDecoding(message: Message): unknown {
  const contentType = message.headers['content-type'] ?? 'application/json';
  let event: CloudEvent<unknown>;
  try {
    const kafkaMessage: KafkaMessage = { key: message.key ?? '', value: message.value, body: message.value, headers: { ...message.headers, 'content-type': contentType } };
    const decoded = Kafka.toEvent(kafkaMessage);
    if (Array.isArray(decoded)) throw new ContractError('batched CloudEvents are not supported');
    event = decoded as CloudEvent<unknown>;
    event.validate();
  } catch (err) {
    if (err instanceof ContractError) throw err;
    if (err instanceof SyntaxError) throw new ContractError(`message value: is not valid JSON (${err.message})`);
    if (err instanceof ValidationError) throw new ContractError(`invalid CloudEvent: ${err.message} ${JSON.stringify(err.errors ?? [])}`);
    throw new ContractError(`invalid CloudEvent: ${(err as Error).message}`);
  }
  const basedOn = message.headers['ce_basedon'];
  return { id: event.id, source: event.source, type: event.type, subject: event.subject, time: message.headers['ce_time'], dataschema: event.dataschema, data: event.data, basedOn: basedOn ? parseLegacyVersion(basedOn) : undefined };
}

function decodeOutcome(decode: () => unknown): unknown {
  try {
    return { ...(decode() as object) };
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
}

const serviceHeaders = (extra: Record<string, string> = {}): Record<string, string> => ({
  ce_id: 'ce-1',
  ce_source: `/services/profile-${tag}`,
  ce_type: 'UserChanged',
  ce_specversion: '1.0',
  ce_subject: 'gid-42',
  ce_time: '2025-03-01T00:00:00.000Z',
  ce_dataschema: `urn:legacy-sync:schema:user_${tag}:v1:UserChanged`,
  'content-type': 'application/json',
  origin: 'service:profile',
  ...extra,
});

const without = (name: string): Record<string, string> => {
  const headers = serviceHeaders();
  delete headers[name];
  return headers;
};

const MESSAGES: readonly Message[] = [
  { key: 'gid-42', value: JSON.stringify({ name: 'Ada', email: null, n: 1.5 }), headers: serviceHeaders() },
  { key: Buffer.from('gid-42'), value: Buffer.from(JSON.stringify({ name: 'ünï' })), headers: serviceHeaders() },
  { key: null, value: '{}', headers: serviceHeaders() },
  { key: 'g', value: '[1,2]', headers: serviceHeaders() },
  { key: 'g', value: 'null', headers: serviceHeaders() },
  { key: 'g', value: '"text"', headers: serviceHeaders() },
  { key: 'g', value: '{}', headers: without('ce_subject') },
  { key: 'g', value: '{}', headers: without('ce_time') },
  { key: 'g', value: '{}', headers: without('ce_dataschema') },
  { key: 'g', value: '{}', headers: without('content-type') },
  { key: 'g', value: '{}', headers: serviceHeaders({ ce_basedon: 'crm.public.users@7', ce_legacyversion: 'crm.public.users@6' }) },
  { key: 'g', value: '{}', headers: serviceHeaders({ 'content-type': 'application/json; charset=utf-8' }) },
  // Outside what the lean decoder vouches for: the SDK decides.
  { key: 'g', value: '{"broken', headers: serviceHeaders() },
  { key: 'g', value: '{}', headers: serviceHeaders({ ce_time: '2025-03-01T01:00:00+01:00' }) },
  { key: 'g', value: '{}', headers: serviceHeaders({ ce_time: 'March 1, 2025' }) },
  { key: 'g', value: '{}', headers: serviceHeaders({ ce_time: 'not a time' }) },
  { key: 'g', value: '{}', headers: serviceHeaders({ ce_time: '+012025-03-01T00:00:00.000Z' }) },
  { key: 'g', value: '{}', headers: serviceHeaders({ ce_subject: '' }) },
  { key: 'g', value: '{}', headers: serviceHeaders({ ce_dataschema: '' }) },
  { key: 'g', value: '{}', headers: serviceHeaders({ ce_dataschema: 'no-scheme' }) },
  { key: 'g', value: '{}', headers: serviceHeaders({ ce_source: 'not a uri reference' }) },
  { key: 'g', value: '{}', headers: serviceHeaders({ 'ce_Bad-Name': 'x' }) },
  { key: 'g', value: '{}', headers: serviceHeaders({ ce_datacontenttype: 'text/plain' }) },
  { key: 'g', value: '{}', headers: serviceHeaders({ ce_partitionkey: 'other' }) },
  { key: 'g', value: '{}', headers: serviceHeaders({ 'Content-Type': 'application/cloudevents+json' }) },
  { key: 'g', value: '{}', headers: serviceHeaders({ ce_basedon: 'no-version' }) },
];

describe('CloudEvents decoding without the SDK', () => {
  it('gives the SDK decoding (or its error) for every message, on first sight of the attributes and after', () => {
    for (const message of MESSAGES) {
      const expected = decodeOutcome(() => sdkDecoding(message));
      assert.deepEqual(decodeOutcome(() => decodeDomainEvent(message)), expected, `first: ${JSON.stringify(message)}`);
      assert.deepEqual(decodeOutcome(() => decodeDomainEvent(message)), expected, `again: ${JSON.stringify(message)}`);
    }
  });

  it('does not run the SDK per event once the source, type and dataschema were validated', (t) => {
    const toEvent = t.mock.method(Kafka, 'toEvent');
    const headers = serviceHeaders({ ce_type: `Fresh${tag}` });
    decodeDomainEvent({ key: 'g', value: '{}', headers });
    assert.equal(toEvent.mock.callCount(), 1, 'first sight: validated by the SDK');
    for (let i = 0; i < 100; i++) decodeDomainEvent({ key: `g${i}`, value: JSON.stringify({ i }), headers: { ...headers, ce_id: `ce-${i}`, ce_subject: `gid-${i}` } });
    assert.equal(toEvent.mock.callCount(), 1, 'then no SDK call per event');
  });
});
