import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContractError, parseChangeEvent, parseJsonValue, parseKeyedChangeEvent, parseWritebackCommand, parseWritebackRequest, parseTableTopic, Topics } from '@sync/contracts';

const event = {
  before: null,
  after: { id: 1, name: 'Ada' },
  source: { system: 'crm', schema: 'public', table: 'users', position: '42', committedAt: '2026-11-24T10:00:00.000Z', txId: '7' },
  op: 'c',
  ts_ms: 1,
};

describe('topic names', () => {
  it('builds and parses table topics', () => {
    const ref = { system: 'crm', schema: 'dbo', table: 'Order Lines' };
    assert.equal(Topics.legacy(ref), 'legacy.crm.dbo.Order_Lines');
    assert.deepEqual(parseTableTopic('resolved.crm.dbo.users'), { prefix: 'resolved', system: 'crm', schema: 'dbo', table: 'users' });
    assert.equal(Topics.domain('customer', 2), 'domain.customer.v2');
    assert.equal(Topics.dlq('legacy-import'), 'dlq.legacy-import');
    assert.throws(() => Topics.legacy({ system: 'crm', schema: 'a.b', table: 't' }), /invalid schema "a.b"/);
  });
});

describe('message contracts', () => {
  it('accepts a valid change event and names the bad field of an invalid one', () => {
    assert.deepEqual(parseChangeEvent(event).after, { id: 1, name: 'Ada' });
    assert.throws(() => parseChangeEvent({ ...event, op: 'x' }), (e: unknown) => e instanceof ContractError && /^op:/.test(e.message));
    assert.throws(() => parseChangeEvent({ ...event, op: 'd' }), /before: a delete needs the before image/);
    assert.throws(() => parseChangeEvent({ ...event, source: { ...event.source, table: '' } }), /source\.table: must be a non-empty string/);
  });

  it('requires the global id on keyed events', () => {
    assert.equal(parseKeyedChangeEvent({ ...event, globalId: 'g1', references: { user_id: null } }).globalId, 'g1');
    assert.throws(() => parseKeyedChangeEvent(event), /globalId/);
    assert.throws(() => parseKeyedChangeEvent({ ...event, globalId: 'g', references: { x: 1 } }), /references\.x/);
  });

  it('validates write-back requests and commands', () => {
    const common = { commandId: 'c1', op: 'upsert', system: 'crm', schema: 'public', table: 'users', globalId: 'g1', columns: { name: 'A' }, occurredAt: '2026-11-24T10:00:00Z', origin: 'svc', causationId: 'e1' };
    assert.deepEqual(parseWritebackRequest({ ...common, references: {} }).references, {});
    assert.deepEqual(parseWritebackCommand({ ...common, key: {} }).key, {}, 'an insert may leave the key to the database');
    assert.throws(() => parseWritebackCommand({ ...common, op: 'delete', key: {} }), /key: a delete needs the legacy key/);
    assert.deepEqual(parseWritebackCommand({ ...common, key: { id: 5 }, newKey: { id: 9 } }).newKey, { id: 9 });
    assert.throws(() => parseWritebackCommand({ ...common, key: { id: 5 }, newKey: { other: 9 } }), /newKey: must name the key columns/);
    assert.throws(() => parseWritebackCommand({ ...common, key: { id: 5 }, newKey: { id: null } }), /newKey.id: must not be null/);
    assert.throws(() => parseWritebackCommand({ ...common, key: {}, newKey: { id: 9 } }), /newKey: only an upsert of a row with a key/);
    assert.throws(() => parseWritebackCommand({ ...common, key: {}, occurredAt: 'yesterday' }), /occurredAt/);
  });

  it('reports malformed JSON as a contract error', () => {
    assert.throws(() => parseJsonValue(Buffer.from('{oops')), (e: unknown) => e instanceof ContractError && /not valid JSON/.test(e.message));
    assert.throws(() => parseJsonValue(null), /tombstone/);
  });
});
