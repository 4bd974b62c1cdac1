import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InboundMessage } from '@sync/kafka';
import { UsageError } from '../../../apps/sync-ctl/src/command';
import { matches, parseTime, purgePlan, replayDecision, supersededLetters, toDeadLetter } from '../../../apps/sync-ctl/src/dlq/dead-letters';

function letter(offset: number, headers: Record<string, string> = {}, partition = 0, key = 'g-1') {
  const message: InboundMessage = {
    topic: 'dlq.legacy-writeback',
    partition,
    offset: String(offset),
    key: Buffer.from(key),
    value: Buffer.from('{"commandId":"c1"}'),
    timestamp: '0',
    headers: {
      origin: 'svc:orders',
      'causation-id': 'evt-1',
      'dlq-reason': 'new row violates check constraint "items_qty_positive"',
      'dlq-error-kind': 'data',
      'dlq-app': 'legacy-writeback',
      'dlq-source-topic': 'resolved.crm.public.items',
      'dlq-source-partition': '0',
      'dlq-source-offset': '7',
      'dlq-attempts': '1',
      'dlq-failed-at': '2026-12-06T10:00:00.000Z',
      ...headers,
    },
  };
  return toDeadLetter('legacy-writeback', message);
}

describe('sync-ctl dlq: dead letters', () => {
  it('filters by entity, reason (substring, any case), key and failure time', () => {
    const d = letter(3);
    assert.equal(d.id, 'dlq.legacy-writeback/0/3');
    assert.ok(matches(d, {}));
    assert.ok(matches(d, { entity: 'crm.public.items', reason: 'CHECK CONSTRAINT', key: 'g-1' }));
    assert.ok(!matches(d, { entity: 'rm.public.items' }), 'a suffix of a segment is not the entity');
    assert.ok(!matches(d, { reason: 'not-null' }));
    assert.ok(!matches(d, { key: 'g-2' }));
    const at = Date.parse('2026-12-06T10:00:00Z');
    assert.ok(matches(d, { since: at, until: at + 1 }));
    assert.ok(!matches(d, { since: at + 1 }));
    assert.ok(!matches(d, { until: at }), '--until is exclusive');
  });

  it('reads ISO times and durations before now; anything else is a usage error naming the option', () => {
    const now = Date.parse('2026-12-06T12:00:00Z');
    assert.equal(parseTime('--since', '2h', now), Date.parse('2026-12-06T10:00:00Z'));
    assert.equal(parseTime('--since', '30m', now), Date.parse('2026-12-06T11:30:00Z'));
    assert.equal(parseTime('--since', '1d', now), Date.parse('2026-12-05T12:00:00Z'));
    assert.equal(parseTime('--until', '2026-12-01T00:00:00Z', now), Date.parse('2026-12-01T00:00:00Z'));
    for (const bad of ['yesterday', '2h ago', '-2h', '2026-13-45', '']) {
      assert.throws(() => parseTime('--until', bad, now), (err: unknown) => err instanceof UsageError && err.message.startsWith(`--until ${bad}:`), bad);
    }
  });

  it('replays to the source topic with the original headers, without the failure headers, counting replays', () => {
    const now = new Date('2026-12-06T12:00:00Z');
    const decision = replayDecision(letter(3), 3, now);
    assert.ok('replay' in decision);
    assert.equal(decision.replay.topic, 'resolved.crm.public.items');
    assert.equal(decision.replay.key, 'g-1');
    assert.equal(decision.replay.value, '{"commandId":"c1"}');
    assert.deepEqual(decision.replay.headers, {
      origin: 'svc:orders',
      'causation-id': 'evt-1',
      'dlq-replay-count': '1',
      'dlq-replayed-at': '2026-12-06T12:00:00.000Z',
      'dlq-replayed-from': 'dlq.legacy-writeback/0/3',
    });
    const twice = replayDecision(letter(4, { 'dlq-replay-count': '2' }), 3, now);
    assert.ok('replay' in twice);
    assert.equal(twice.replay.headers?.['dlq-replay-count'], '3');
  });

  it('refuses a message replayed N times, one replayed and failed again, and one without a source topic', () => {
    const now = new Date();
    assert.deepEqual(replayDecision(letter(4, { 'dlq-replay-count': '3' }), 3, now), { refused: 'replayed 3 times already (--max-replays 3)' });
    const original = letter(3);
    const again = letter(9, { 'dlq-replay-count': '1', 'dlq-replayed-from': original.id });
    const superseded = supersededLetters([original, again]);
    assert.deepEqual([...superseded], [[original.id, again.id]]);
    assert.deepEqual(replayDecision(original, 3, now, superseded.get(original.id)), { refused: `replayed already and failed again as ${again.id}` });
    assert.ok('replay' in replayDecision(again, 3, now, superseded.get(again.id)));
    assert.deepEqual(replayDecision(letter(5, { 'dlq-source-topic': '' }), 3, now), { refused: 'no dlq-source-topic header' });
  });

  it('purges per partition the prefix of dead letters that failed before the time, never a record after a newer one', () => {
    const old = '2026-12-01T00:00:00.000Z';
    const recent = '2026-12-06T00:00:00.000Z';
    const letters = [
      letter(10, { 'dlq-failed-at': old }),
      letter(11, { 'dlq-failed-at': old }),
      letter(12, { 'dlq-failed-at': recent }),
      letter(13, { 'dlq-failed-at': old }),
      letter(5, { 'dlq-failed-at': recent }, 1),
      letter(6, { 'dlq-failed-at': old }, 1),
      letter(0, { 'dlq-failed-at': old }, 2),
    ];
    assert.deepEqual(purgePlan(letters, Date.parse('2026-12-03T00:00:00Z')), [
      { partition: 0, offset: '12', count: 2 },
      { partition: 2, offset: '1', count: 1 },
    ]);
    assert.deepEqual(purgePlan(letters, Number.POSITIVE_INFINITY), [
      { partition: 0, offset: '14', count: 4 },
      { partition: 1, offset: '7', count: 2 },
      { partition: 2, offset: '1', count: 1 },
    ]);
  });
});
