import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEAD_LETTER_MAX_BYTES, DLQ_HEADERS, deadLetterRecord, type InboundMessage } from '@sync/kafka';

const message = (key: Buffer | null, value: Buffer | null, headers: Record<string, string> = {}): InboundMessage => ({ topic: 't', partition: 0, offset: '5', key, value, headers, timestamp: '0' });
const now = new Date('2026-01-01T00:00:00.000Z');
const size = (v: string | Buffer | null): number => (v === null ? 0 : Buffer.byteLength(v));

describe('dead letters are capped in size', () => {
  it('keeps a message within the cap as it is, without dlq-truncated', () => {
    const record = deadLetterRecord('app', message(Buffer.from('k'), Buffer.from('{"a":1}'), { origin: 'o' }), 'data', new Error('bad'), 1, now);
    assert.equal(record.value?.toString(), '{"a":1}');
    assert.equal(record.key?.toString(), 'k');
    assert.equal(record.headers?.[DLQ_HEADERS.truncated], undefined);
    assert.equal(record.headers?.['origin'], 'o');
  });

  it('cuts an oversize value to 512 KiB by default and says the original size in dlq-truncated', () => {
    const value = Buffer.alloc(3 * 1024 * 1024, 'x');
    const record = deadLetterRecord('app', message(Buffer.from('k'), value), 'data', new Error('oversize'), 1, now);
    assert.equal(DEAD_LETTER_MAX_BYTES, 512 * 1024);
    assert.equal(size(record.value), 512 * 1024);
    assert.equal(record.headers?.[DLQ_HEADERS.truncated], `value=${3 * 1024 * 1024}`);
    assert.equal(record.headers?.[DLQ_HEADERS.reason], 'oversize');
  });

  it('cuts an oversize key (a quarter of the cap) and oversize headers; the cap is configurable', () => {
    const record = deadLetterRecord('app', message(Buffer.alloc(100_000, 'k'), Buffer.alloc(50_000, 'v'), { big: 'h'.repeat(10_000), small: 's' }), 'unknown', new Error('x'), 3, now, { maxBytes: 40_000 });
    assert.equal(size(record.value), 40_000);
    assert.equal(size(record.key), 10_000);
    assert.equal(size(record.headers?.['big'] ?? ''), 4096);
    assert.equal(record.headers?.['small'], 's');
    assert.equal(record.headers?.[DLQ_HEADERS.truncated], 'value=50000,key=100000,headers=big:10000');
  });
});
