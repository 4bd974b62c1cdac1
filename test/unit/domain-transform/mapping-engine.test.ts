import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigValidationError, parsePipeline } from '@sync/config';
import { ContractError, parseWritebackRequest, type KeyedChangeEvent, type WritebackRequest } from '@sync/contracts';
import { loadMappings, MapperRegistry, MappingEngine, type TransformInput, type TransformOutput } from '@sync/mapping';
import { MappingError } from '../../../libs/mapping/src/mapping.errors';
import { repoRoot } from '../../support/test-env';

const fixture = (name: string): string => readFileSync(path.join(repoRoot, 'test', 'fixtures', 'mappings', name), 'utf8');
const USERS = fixture('users.pipeline.yaml');

function engineFor(yaml: string, mappers = new MapperRegistry()): MappingEngine {
  return new MappingEngine(loadMappings(parsePipeline(yaml, 'test.yaml'), mappers), mappers);
}

const GID = 'gid-42';
const base = { id: 42, name: 'Ada', email: 'ADA@example.org', street: '1 Main St', city: 'Leeds', zip: 12345, active: 1, manager_id: 7 };

function keyed(op: KeyedChangeEvent['op'], before: Record<string, unknown> | null, after: Record<string, unknown> | null, table = 'users', headers: Record<string, string> = {}): TransformInput {
  const value: KeyedChangeEvent = {
    op,
    before,
    after,
    source: { system: 'crm', schema: 'public', table, position: '100', committedAt: '2025-01-02T03:04:05.000Z', txId: null },
    ts_ms: 1,
    globalId: GID,
    references: { manager_id: 'gid-7' },
  };
  return { topic: `keyed.crm.public.${table}`, key: GID, value: JSON.stringify(value), headers: { 'event-id': 'evt-1', ...headers } };
}

function domain(type: string, data: unknown, headers: Record<string, string> = {}): TransformInput {
  return {
    topic: 'domain.user.v1',
    key: GID,
    value: JSON.stringify(data),
    headers: { ce_id: 'ce-1', ce_source: '/services/profile', ce_type: type, ce_specversion: '1.0', ce_subject: GID, ce_time: '2025-02-03T00:00:00.000Z', 'content-type': 'application/json', origin: 'service:profile', ...headers },
  };
}

const types = (outs: readonly TransformOutput[]): string[] => outs.map((o) => o.headers['ce_type'] ?? o.topic);
const data = (o: TransformOutput): unknown => JSON.parse(o.value);
const request = (o: TransformOutput): WritebackRequest => parseWritebackRequest(JSON.parse(o.value));

describe('forward mapping: keyed change to domain events', () => {
  const engine = engineFor(USERS);

  it('an insert produces every event of the row (one-to-many), with CloudEvents headers and the global id as key', async () => {
    const res = await engine.transform(keyed('c', null, base));
    assert.deepEqual(types(res.outputs), ['UserChanged', 'AddressChanged']);
    const [user, address] = res.outputs as [TransformOutput, TransformOutput];
    assert.equal(user.topic, 'domain.user.v1');
    assert.equal(user.key, GID);
    assert.deepEqual(data(user), { name: 'Ada', email: 'ada@example.org', active: true, managerId: 'gid-7' });
    assert.deepEqual(data(address), { street: '1 Main St', city: 'Leeds', zip: '12345' });
    assert.equal(user.headers['ce_specversion'], '1.0');
    assert.equal(user.headers['ce_subject'], GID);
    assert.equal(user.headers['ce_source'], '/legacy-sync/crm/public/users');
    assert.equal(user.headers['ce_time'], '2025-01-02T03:04:05.000Z');
    assert.equal(user.headers['ce_dataschema'], 'urn:legacy-sync:schema:user:v1:UserChanged');
    assert.equal(user.headers['content-type'], 'application/json');
    assert.equal(user.headers['origin'], 'legacy:crm');
    assert.equal(user.headers['causation-id'], 'evt-1');
    assert.equal(user.headers['event-id'], user.headers['ce_id']);
    assert.notEqual(user.headers['ce_id'], address.headers['ce_id']);
  });

  it('every event names the legacy row version it shows (ce_legacyversion), for the new side to send back as ce_basedon', async () => {
    const res = await engine.transform(keyed('u', base, { ...base, name: 'Ada L' }));
    assert.ok(res.outputs.length > 0);
    for (const out of res.outputs) assert.equal(out.headers['ce_legacyversion'], 'crm.public.users@100');
  });

  it('an update fires only the events whose mapped fields changed', async () => {
    const onlyAddress = await engine.transform(keyed('u', base, { ...base, city: 'York' }));
    assert.deepEqual(types(onlyAddress.outputs), ['AddressChanged']);
    assert.deepEqual(onlyAddress.skipped, [{ rule: 'users.UserChanged', reason: 'unchanged' }]);
    const onlyUser = await engine.transform(keyed('u', base, { ...base, name: 'Ada L.' }));
    assert.deepEqual(types(onlyUser.outputs), ['UserChanged']);
  });

  it('filters technical changes: an unmapped column, or a change the mapping normalises away, produces nothing', async () => {
    const technical = await engine.transform(keyed('u', base, { ...base, updated_at: '2025-01-01' }));
    assert.deepEqual(technical.outputs, []);
    const caseOnly = await engine.transform(keyed('u', base, { ...base, email: 'ada@EXAMPLE.org' }));
    assert.deepEqual(caseOnly.outputs, [], 'email is mapped through $lowercase, so a case change is not a change');
  });

  it('a delete produces the removal event only, mapped from the before image', async () => {
    const res = await engine.transform(keyed('d', base, null));
    assert.deepEqual(types(res.outputs), ['UserRemoved']);
    assert.deepEqual(data(res.outputs[0]!), {});
    assert.equal(res.outputs[0]!.key, GID);
  });

  it('several tables feed one aggregate topic', async () => {
    const res = await engine.transform(keyed('c', null, { id: 9, total: '12.50', ordered_at: 1735787045000 }, 'orders'));
    assert.equal(res.outputs.length, 1);
    assert.equal(res.outputs[0]!.topic, 'domain.user.v1');
    assert.deepEqual(data(res.outputs[0]!), { orderId: '9', total: 12.5, placedAt: '2025-01-02T03:04:05.000Z' });
  });

  it('null handling: null columns stay null, type conversions keep null, nulls compare as values', async () => {
    const res = await engine.transform(keyed('c', null, { ...base, email: null, street: null, zip: null }));
    assert.deepEqual(data(res.outputs[0]!), { name: 'Ada', email: null, active: true, managerId: 'gid-7' });
    assert.deepEqual(data(res.outputs[1]!), { street: null, city: 'Leeds', zip: null });
    const nulled = await engine.transform(keyed('u', base, { ...base, zip: null }));
    assert.deepEqual(types(nulled.outputs), ['AddressChanged']);
  });

  it('type conversions: flags to booleans, numbers to strings, epoch to ISO dates', async () => {
    const res = await engine.transform(keyed('c', null, { ...base, active: 'N', zip: 501 }));
    assert.equal((data(res.outputs[0]!) as { active: boolean }).active, false);
    assert.equal((data(res.outputs[1]!) as { zip: string }).zip, '501');
  });

  it('type date never loses precision silently: sub-millisecond digits are kept, offset-less times are UTC', async () => {
    const placedAt = async (orderedAt: unknown): Promise<unknown> =>
      (data((await engine.transform(keyed('c', null, { id: 9, total: 1, ordered_at: orderedAt }, 'orders'))).outputs[0]!) as { placedAt: unknown }).placedAt;
    assert.equal(await placedAt('2025-01-02 03:04:05.123'), '2025-01-02T03:04:05.123Z');
    assert.equal(await placedAt('2025-01-02T03:04:05.120000'), '2025-01-02T03:04:05.120Z');
    assert.equal(await placedAt('2025-01-02T03:04:05+02:00'), '2025-01-02T01:04:05.000Z');
    assert.equal(await placedAt('2025-01-02'), '2025-01-02T00:00:00.000Z');
    assert.equal(await placedAt('2025-01-02T03:04:05.123456'), '2025-01-02T03:04:05.123456Z', 'microseconds kept, not truncated');
    assert.equal(await placedAt('2025-01-02 03:04:05.1234567+01:00'), '2025-01-02T02:04:05.1234567Z', 'SQL Server datetime2 precision, converted to UTC');
    await assert.rejects(placedAt(1735787045000.5), /fields\.placedAt: 1735787045000\.5 has a fraction of a millisecond/);
  });

  it('a conversion that cannot be done is a mapping error naming the mapping and the field', async () => {
    await assert.rejects(engine.transform(keyed('c', null, { ...base, active: 'maybe' })), (err: unknown) => {
      assert.ok(err instanceof MappingError && err instanceof ContractError);
      assert.match(err.message, /^mappings\.users\.events\[0\]\.fields\.active: cannot convert "maybe" to a boolean/);
      return true;
    });
  });

  it('a failing JSONata expression is a mapping error naming the field', async () => {
    const yaml = USERS.replace('orderId: $string(id)', 'orderId: $number(code)');
    const res = engineFor(yaml).transform(keyed('c', null, { id: 9, code: 'X9', total: 1, ordered_at: 0 }, 'orders'));
    await assert.rejects(res, /mappings\.orders\.events\[0\]\.fields\.orderId: Unable to cast value to a number/);
  });

  it('an event that does not match its declared schema is a mapping error', async () => {
    await assert.rejects(engine.transform(keyed('c', null, { ...base, name: '' })), /mappings\.users\.events\[0\]: UserChanged does not match its schema: \/name must NOT have fewer than 1 characters/);
  });

  it('ids are deterministic: the same input gives the same ids, another input other ids', async () => {
    const a = await engine.transform(keyed('c', null, base));
    const b = await engine.transform(keyed('c', null, base));
    const c = await engine.transform(keyed('c', null, base, 'users', { 'event-id': 'evt-2' }));
    assert.deepEqual(a.outputs.map((o) => o.headers['ce_id']), b.outputs.map((o) => o.headers['ce_id']));
    assert.match(a.outputs[0]!.headers['ce_id']!, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a.outputs[0]!.headers['ce_id'], c.outputs[0]!.headers['ce_id']);
  });

  it('a row the suite wrote on behalf of a new service does not come back as a fresh domain event', async () => {
    const res = await engine.transform(keyed('u', base, { ...base, name: 'From service' }, 'users', { origin: 'service:profile' }));
    assert.deepEqual(res.outputs, []);
    assert.deepEqual(res.skipped, [{ rule: 'users', reason: 'echo' }]);
  });

  it('malformed and contract-violating change events are contract errors', async () => {
    await assert.rejects(engine.transform({ ...keyed('c', null, base), value: '{not json' }), ContractError);
    await assert.rejects(engine.transform({ ...keyed('c', null, base), value: JSON.stringify({ op: 'x' }) }), ContractError);
  });
});

describe('reverse mapping: domain event to write-back requests', () => {
  const engine = engineFor(USERS);

  it('maps a new service event to a partial update touching only mapped columns present in the event', async () => {
    const res = await engine.transform(domain('UserChanged', { name: 'Ada Lovelace', email: 'ada@example.org', active: false }));
    assert.equal(res.outputs.length, 1);
    const out = res.outputs[0]!;
    assert.equal(out.topic, 'writeback.crm.public.users');
    assert.equal(out.key, GID);
    const req = request(out);
    assert.deepEqual(req.columns, { name: 'Ada Lovelace', email: 'ada@example.org', active: 0 });
    assert.deepEqual(req.references, {}, 'managerId absent: the foreign key is not touched');
    assert.equal(req.op, 'upsert');
    assert.equal(req.globalId, GID);
    assert.equal(req.origin, 'service:profile');
    assert.equal(req.causationId, 'ce-1');
    assert.equal(req.occurredAt, '2025-02-03T00:00:00.000Z');
    assert.equal(out.headers['origin'], 'service:profile');
    assert.equal(out.headers['causation-id'], 'ce-1');
    assert.equal(out.headers['event-id'], req.commandId);
  });

  it('the command id is derived from (ce_source, ce_id): the same id from two services makes two commands, a redelivery the same one', async () => {
    const event = { name: 'Ada', email: 'a@example.org', active: true };
    const commandId = async (source: string): Promise<string> => request((await engine.transform(domain('UserChanged', event, { ce_id: '1', ce_source: source }))).outputs[0]!).commandId;
    const profile = await commandId('/services/profile');
    assert.notEqual(profile, await commandId('/services/billing'));
    assert.equal(profile, await commandId('/services/profile'));
  });

  it('explicit nulls clear columns; foreign keys travel as global ids in references', async () => {
    const res = await engine.transform(domain('UserChanged', { name: 'Ada', email: null, active: true, managerId: 'gid-9' }));
    const req = request(res.outputs[0]!);
    assert.deepEqual(req.columns, { name: 'Ada', email: null, active: 1 });
    assert.deepEqual(req.references, { manager_id: 'gid-9' });
  });

  it('carries the legacy row version the sender saw (ce_basedon) as basedOn, for that table only', async () => {
    const based = await engine.transform(domain('UserChanged', { name: 'Ada', email: null, active: true }, { ce_basedon: 'crm.public.users@97' }));
    assert.equal(request(based.outputs[0]!).basedOn, '97');
    const otherTable = await engine.transform(domain('UserChanged', { name: 'Ada', email: null, active: true }, { ce_basedon: 'crm.public.addresses@97' }));
    assert.equal(request(otherTable.outputs[0]!).basedOn, undefined, 'a position of another table says nothing about this row');
    assert.equal(request((await engine.transform(domain('UserChanged', { name: 'Ada', email: null, active: true }))).outputs[0]!).basedOn, undefined);
    await assert.rejects(engine.transform(domain('UserChanged', { name: 'Ada', email: null, active: true }, { ce_basedon: 'users-97' })), (err: unknown) => err instanceof ContractError && /ce_basedon: "users-97" is not <system>\.<schema>\.<table>@<position>/.test(err.message));
  });

  it('a removal event becomes a delete', async () => {
    const req = request((await engine.transform(domain('UserRemoved', {}))).outputs[0]!);
    assert.equal(req.op, 'delete');
    assert.deepEqual(req.columns, {});
  });

  it('an event that originated in the legacy system is never written back to it', async () => {
    const res = await engine.transform(domain('UserChanged', { name: 'Ada', email: null, active: true }, { origin: 'legacy:crm' }));
    assert.deepEqual(res.outputs, []);
    assert.equal(res.skipped[0]?.reason, 'echo');
  });

  it('the events forward mapping produced are not written back to their own system (round trip)', async () => {
    const forward = await engine.transform(keyed('c', null, base));
    for (const out of forward.outputs) {
      const back = await engine.transform({ topic: out.topic, key: out.key, value: out.value, headers: out.headers });
      assert.deepEqual(back.outputs, []);
    }
  });

  it('unknown types, schema-invalid data, malformed JSON and missing CloudEvents headers are contract errors', async () => {
    await assert.rejects(engine.transform(domain('UserExploded', {})), /unknown event type UserExploded/);
    await assert.rejects(engine.transform(domain('UserChanged', { name: 5 })), /UserChanged does not match its schema.*\/name must be string/);
    await assert.rejects(engine.transform({ ...domain('UserChanged', {}), value: '{oops' }), /not valid JSON/);
    const noType = domain('UserChanged', {});
    await assert.rejects(engine.transform({ ...noType, headers: { ...noType.headers, ce_type: '' } }), /header ce_type missing/);
  });
});

describe('replication rules', () => {
  const engine = engineFor(USERS);
  const customer = (op: KeyedChangeEvent['op'], before: Record<string, unknown> | null, after: Record<string, unknown> | null, headers: Record<string, string> = {}): TransformInput => {
    const value = { op, before, after, source: { system: 'erp', schema: 'dbo', table: 'Customer', position: '5', committedAt: '2025-01-01T00:00:00Z', txId: null }, ts_ms: 1, globalId: 'gid-c1', references: {} };
    return { topic: 'keyed.erp.dbo.Customer', key: 'gid-c1', value: JSON.stringify(value), headers };
  };

  it('copies rows to the other system with renamed columns', async () => {
    const res = await engine.transform(customer('c', null, { CustomerNo: 1, CustomerName: 'ACME', City: 'Bonn', Internal: 'x' }));
    const req = request(res.outputs[0]!);
    assert.equal(res.outputs[0]!.topic, 'writeback.crm.public.customers');
    assert.deepEqual(req.columns, { name: 'ACME', city: 'Bonn' });
    assert.equal(req.origin, 'legacy:erp');
  });

  it('deletes replicate as deletes; unmapped changes and echoes of its own writes are skipped', async () => {
    assert.equal(request((await engine.transform(customer('d', { CustomerNo: 1 }, null))).outputs[0]!).op, 'delete');
    const row = { CustomerNo: 1, CustomerName: 'ACME', City: 'Bonn', Internal: 'x' };
    assert.deepEqual((await engine.transform(customer('u', row, { ...row, Internal: 'y' }))).outputs, []);
    assert.deepEqual((await engine.transform(customer('u', row, { ...row, City: 'Köln' }, { origin: 'legacy:crm' }))).outputs, []);
  });
});

describe('custom mapper classes', () => {
  class SplitNameMapper {
    forward({ change }: { change: KeyedChangeEvent }): Array<{ type: string; data: Record<string, unknown> }> {
      const [first, ...rest] = String(change.after?.['name'] ?? '').split(' ');
      return [{ type: 'UserNamed', data: { first, last: rest.join(' ') } }];
    }
  }

  it('a mapping can hand a table to a registered class; its events are still validated', async () => {
    const yaml = USERS.replace(/mappings:\n  users:[\s\S]*?\n  orders:/, 'mappings:\n  named:\n    source: { system: crm, table: users }\n    aggregate: person\n    mapper: SplitNameMapper\n    events:\n      - type: UserNamed\n        schema: { type: object, required: [first, last] }\n  orders:');
    const engine = engineFor(yaml, new MapperRegistry().register('SplitNameMapper', new SplitNameMapper()));
    const res = await engine.transform(keyed('c', null, { ...base, name: 'Ada King Lovelace' }));
    assert.equal(res.outputs[0]!.topic, 'domain.person.v1');
    assert.deepEqual(data(res.outputs[0]!), { first: 'Ada', last: 'King Lovelace' });
  });
});

describe('mapping config validation', () => {
  const issues = (yaml: string): string[] => {
    try {
      engineFor(yaml);
    } catch (err) {
      assert.ok(err instanceof ConfigValidationError, String(err));
      return err.issues.map((i) => `${i.path}: ${i.message}`);
    }
    assert.fail('expected a ConfigValidationError');
  };

  it('names the path of a bad expression, an unknown table, an unknown mapper and a bad schema', () => {
    const yaml = USERS.replace('city: city\n          zip', 'city: $uppercase(city\n          zip')
      .replace('source: { system: crm, table: orders }', 'source: { system: crm, table: order }')
      .replace('    events:\n      - type: OrderPlaced', '    mapper: Nope\n    events:\n      - type: OrderPlaced')
      .replace('name: { type: string, minLength: 1 }', 'name: { type: strin }');
    const found = issues(yaml);
    assert.ok(found.some((i) => i.startsWith('mappings.users.events[1].fields.city: invalid JSONata expression')), found.join('\n'));
    assert.ok(found.some((i) => i.startsWith('mappings.orders.source.table: system crm declares no table order')), found.join('\n'));
    assert.ok(found.some((i) => i.startsWith('mappings.orders.mapper: no mapper named "Nope"')), found.join('\n'));
    assert.ok(found.some((i) => i.startsWith('mappings.users.events[0].schema: is not a valid JSON Schema')), found.join('\n'));
  });

  it('rejects unknown fields and bad field types', () => {
    const found = issues(USERS.replace('on: [d]', 'onn: [d]').replace('type: boolean', 'type: bool'));
    assert.ok(found.includes('mappings.users.events[2].onn: is not a known field (known fields: type, on, when, fields, schema)'), found.join('\n'));
    assert.ok(found.some((i) => i.startsWith('mappings.users.events[0].fields.active.type: must be one of')), found.join('\n'));
  });

  it('lists the topics the transform reads and writes', () => {
    const engine = engineFor(USERS);
    assert.deepEqual(engine.keyedTopics(), ['keyed.crm.public.orders', 'keyed.crm.public.users', 'keyed.erp.dbo.Customer']);
    assert.deepEqual(engine.domainInputTopics(), ['domain.user.v1']);
    assert.deepEqual(engine.outputTopics(), ['domain.user.v1', 'writeback.crm.public.customers', 'writeback.crm.public.users']);
  });
});
