import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCleanHeaders, ContractError, parseChangeEvent, parseIdmapLink, parseKeyedChangeEvent, parseWritebackCommand, parseWritebackRequest } from '@sync/contracts';
import { errorKind } from '@sync/errors';
import { canonicalKey } from '@sync/keymap';
import { canonicalNaturalKey } from '../../../libs/keymap/src/canonical-key';
import { decodeDomainEvent } from '@sync/mapping';

const NUL = 'a\u0000b';
const LONE = 'a\ud800b';
const PAIRED = 'a\ud83d\ude00b'; // an emoji: a valid surrogate pair

/** Asserts `fn` throws a data error whose message names `field` and the problem. */
function refuses(fn: () => unknown, field: string, problem: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ContractError, String(e));
    assert.equal(errorKind(e), 'data');
    assert.ok(e.message.includes(field), `${e.message} should name ${field}`);
    assert.match(e.message, problem);
    return true;
  });
}

const event = {
  before: null,
  after: { id: 1 },
  source: { system: 'crm', schema: 'public', table: 'users', position: '42', committedAt: '2026-11-24T10:00:00.000Z', txId: '7' },
  op: 'c',
  ts_ms: 1,
};
const request = { commandId: 'c1', op: 'upsert', system: 'crm', schema: 'public', table: 'users', globalId: 'g1', columns: { name: 'x' }, references: { manager_id: 'g2' }, occurredAt: '2025-01-01T00:00:00.000Z', origin: 'service:x', causationId: 'e1', basedOn: 'crm.public.users@1' };

describe('hostile text is refused where it enters, as a data error naming the field', () => {
  for (const [label, bad, problem] of [['NUL', NUL, /NUL/], ['lone surrogate', LONE, /unpaired UTF-16 surrogate/]] as const) {
    it(`change event source fields (${label})`, () => {
      for (const field of ['system', 'schema', 'table', 'position', 'committedAt', 'txId'] as const) {
        refuses(() => parseChangeEvent({ ...event, source: { ...event.source, [field]: bad } }), `source.${field}`, problem);
      }
    });

    it(`keyed change event global id and references (${label})`, () => {
      refuses(() => parseKeyedChangeEvent({ ...event, globalId: bad, references: {} }), 'globalId', problem);
      refuses(() => parseKeyedChangeEvent({ ...event, globalId: 'g', references: { fk: bad } }), 'references.fk', problem);
    });

    it(`write-back request and command fields (${label})`, () => {
      for (const field of ['commandId', 'system', 'schema', 'table', 'globalId', 'origin', 'causationId', 'basedOn'] as const) {
        refuses(() => parseWritebackRequest({ ...request, [field]: bad }), field, problem);
      }
      refuses(() => parseWritebackRequest({ ...request, references: { manager_id: bad } }), 'references.manager_id', problem);
      refuses(() => parseWritebackCommand({ ...request, key: { id: bad } }), 'key.id', problem);
    });

    it(`id-map link fields and key (${label})`, () => {
      const link = { system: 'crm', schema: 'public', table: 'users', key: { id: 1 }, globalId: 'g', commandId: 'c' };
      for (const field of ['system', 'schema', 'table', 'globalId', 'commandId'] as const) refuses(() => parseIdmapLink({ ...link, [field]: bad }), field, problem);
      refuses(() => parseIdmapLink({ ...link, key: { id: bad } }), 'key.id', problem);
    });

    it(`headers: origin, causation-id, event-id and any other (${label})`, () => {
      for (const name of ['origin', 'causation-id', 'event-id', 'ce_subject', 'x-custom']) refuses(() => assertCleanHeaders({ ok: 'fine', [name]: bad }), `header ${name}`, problem);
    });

    it(`CloudEvents subject, source, id, type and the message key (${label})`, () => {
      const headers = { ce_id: 'ce-1', ce_source: '/svc', ce_type: 'UserChanged', ce_specversion: '1.0', ce_subject: 'g1', 'content-type': 'application/json' };
      for (const name of ['ce_subject', 'ce_source', 'ce_id', 'ce_type']) {
        refuses(() => decodeDomainEvent({ key: 'g1', value: '{}', headers: { ...headers, [name]: bad } }), `header ${name}`, problem);
      }
      refuses(() => decodeDomainEvent({ key: Buffer.from('a\u0000b'), value: '{}', headers }), 'message key', /NUL/);
    });

    it(`key-map keys: key and natural-key columns (${label})`, () => {
      assert.throws(() => canonicalKey(['region', 'no'], { region: bad, no: 1 }), (e: unknown) => errorKind(e) === 'data' && /key column region/.test((e as Error).message));
      assert.throws(() => canonicalNaturalKey(['email'], { email: bad }), (e: unknown) => errorKind(e) === 'data' && /natural key column email/.test((e as Error).message));
    });
  }

  it('accepts valid Unicode, including surrogate pairs', () => {
    assert.equal(parseWritebackRequest({ ...request, globalId: PAIRED }).globalId, PAIRED);
    assertCleanHeaders({ ce_subject: PAIRED, origin: 'ünïcödé' });
    assert.equal(canonicalKey(['id'], { id: PAIRED }), JSON.stringify([PAIRED]));
  });
});
