import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, chunksBySize, deadLetterRecord, errorKind, PoisonError, TransientError } from '@sync/kafka';

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
    assert.equal(errorKind(new TransientError('db down')), 'transient');
    assert.equal(errorKind(new PoisonError('bad')), 'poison');
    const contract = new Error('op: bad');
    contract.name = 'ContractError';
    assert.equal(errorKind(contract), 'poison');
    assert.equal(errorKind(new Error('?')), 'unknown');
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
    const letter = deadLetterRecord('legacy-writeback', msg, 'poison', new Error('violates check'), 1, new Date('2026-11-24T00:00:00Z'));
    assert.equal(letter.topic, 'dlq.legacy-writeback');
    assert.equal(letter.headers?.['dlq-reason'], 'violates check');
    assert.equal(letter.headers?.['dlq-source-offset'], '41');
    assert.equal(letter.headers?.['origin'], 'svc');
  });
});
