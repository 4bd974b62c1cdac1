import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, chunksBySize, deadLetterRecord, isMessageTooLarge, recordBytes } from '@sync/kafka';
import { errorKind, DataError, EnvironmentError, SchemaError } from '@sync/errors';
import { ContractError } from '@sync/contracts';

describe('producer request splitting', () => {
  it('splits in order below the size limit and never drops a record', () => {
    const records = Array.from({ length: 10 }, (_, i) => ({ topic: 't', key: `k${i}`, value: 'x'.repeat(300) }));
    const chunks = chunksBySize(records, 1000);
    assert.ok(chunks.length > 1);
    assert.deepEqual(chunks.flat(), records);
    assert.ok(chunks.every((c) => c.length >= 1));
  });

  it('keeps a single oversized record in a chunk of its own', () => {
    const chunks = chunksBySize([{ topic: 't', key: null, value: 'x'.repeat(5000) }, { topic: 't', key: null, value: 'y' }], 1000);
    assert.equal(chunks.length, 2);
  });
});

describe('error kinds and backoff', () => {
  it('classifies errors by kind', () => {
    assert.equal(errorKind(new EnvironmentError('db down')), 'environment');
    assert.equal(errorKind(new DataError('bad')), 'data');
    assert.equal(errorKind(new ContractError('op: bad')), 'data');
    // A class name alone classifies nothing: kinds are typed, not name strings.
    const named = new Error('op: bad');
    named.name = 'ContractError';
    assert.equal(errorKind(named), 'unknown');
    assert.equal(errorKind(new Error('?')), 'unknown');
    // The cause chain is read, and the outermost classified error wins.
    assert.equal(errorKind(new Error('wrapped', { cause: new SchemaError('column gone') })), 'schema');
    assert.equal(errorKind(new EnvironmentError('retry', { cause: new DataError('bad') })), 'environment');
  });

  it('backs off exponentially with a cap and bounded jitter', () => {
    const opts = { initialMs: 100, maxMs: 1000, jitter: 0.2 };
    assert.equal(backoffDelay(1, opts, () => 0.5), 100);
    assert.equal(backoffDelay(3, opts, () => 0.5), 400);
    assert.equal(backoffDelay(10, opts, () => 0.5), 1000);
    assert.equal(backoffDelay(3, opts, () => 0), 320);
    assert.equal(backoffDelay(3, opts, () => 1), 480);
  });

  it('builds a dead letter with the reason and the source position', () => {
    const msg = { topic: 'in', partition: 2, offset: '41', key: Buffer.from('k'), value: Buffer.from('v'), headers: { origin: 'svc' }, timestamp: '0' };
    const letter = deadLetterRecord('legacy-writeback', msg, 'data', new Error('violates check'), 1, new Date('2026-11-24T00:00:00Z'));
    assert.equal(letter.topic, 'dlq.legacy-writeback');
    assert.equal(letter.headers?.['dlq-reason'], 'violates check');
    assert.equal(letter.headers?.['dlq-source-offset'], '41');
    assert.equal(letter.headers?.['origin'], 'svc');
  });
});

describe('broker refusals of oversize records', () => {
  it('recognises kafkajs MESSAGE_TOO_LARGE through its wrappers, and nothing else', () => {
    const protocol = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { type: 'MESSAGE_TOO_LARGE', code: 10 });
    const nonRetriable = Object.assign(new Error('wrapped'), { cause: protocol });
    const aggregate = Object.assign(new Error('aggregate'), { errors: [new Error('x'), nonRetriable] });
    assert.equal(isMessageTooLarge(protocol), true);
    assert.equal(isMessageTooLarge(nonRetriable), true);
    assert.equal(isMessageTooLarge(aggregate), true);
    assert.equal(isMessageTooLarge(Object.assign(new Error('gone'), { type: 'LEADER_NOT_AVAILABLE' })), false);
    assert.equal(isMessageTooLarge(undefined), false);
  });

  it('counts key, value and headers in a record\'s encoded size', () => {
    assert.equal(recordBytes({ topic: 't', key: 'ab', value: 'é' }), 70 + 2 + 2);
    assert.equal(recordBytes({ topic: 't', key: null, value: null, headers: { h: 'xy' } }), 70 + 1 + 2 + 4);
  });
});
