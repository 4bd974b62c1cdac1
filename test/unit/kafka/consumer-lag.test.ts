import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lagMessages, lagSeconds, observeCommit, observeEnd, type PartitionLagState } from '@sync/kafka';
import { MetricsRegistry } from '@sync/observability';

describe('consumer lag in messages', () => {
  it('is the log end minus the committed offset, never negative', () => {
    assert.equal(lagMessages({ end: 120n, committed: 100n }, true), 20);
    assert.equal(lagMessages({ end: 100n, committed: 100n }, true), 0);
    // A commit seen after an older log end (the read raced the consumer): caught up, not -5.
    assert.equal(lagMessages({ end: 100n, committed: 105n }, true), 0);
  });

  it('counts from the log start when the group has committed nothing (a consumer reading from the beginning)', () => {
    assert.equal(lagMessages({ end: 50n, start: 10n }, true), 40);
    assert.equal(lagMessages({ end: 50n, start: 10n }, false), undefined, 'a consumer starting at the end has no position yet');
  });

  it('counts from the log start when the committed offset fell below it (retention deleted those messages)', () => {
    assert.equal(lagMessages({ end: 50n, start: 30n, committed: 10n }, true), 20);
  });

  it('is unknown until the log end is known', () => {
    assert.equal(lagMessages({ committed: 5n }, true), undefined);
  });

  it('handles offsets beyond 2^53 without losing the difference', () => {
    assert.equal(lagMessages({ end: 9_007_199_254_740_999n, committed: 9_007_199_254_740_990n }, true), 9);
  });
});

describe('consumer lag in seconds', () => {
  it('is 0 when caught up, and otherwise counts from the later of the last consumed message and the last time caught up', () => {
    const now = 1_000_000;
    assert.equal(lagSeconds({}, 0, now), 0);
    assert.equal(lagSeconds({ lastConsumedAt: now - 30_000 }, 5, now), 30);
    assert.equal(lagSeconds({ lastConsumedAt: now - 3_600_000, caughtUpAt: now - 2_000 }, 1, now), 2, 'an idle partition that just got a message is 2 s behind, not an hour');
    assert.equal(lagSeconds({}, 5, now), undefined, 'a backlog older than anything this member saw has no bound');
    assert.equal(lagSeconds({ lastConsumedAt: now + 5_000 }, 5, now), 0, 'a producer clock ahead of ours is not negative lag');
  });

  it('follows batches and commits: caught up when the commit reaches the log end that was read', () => {
    const s: PartitionLagState = {};
    observeEnd(s, 10n, 1_000);
    observeCommit(s, 4n, 900);
    assert.equal(lagMessages(s, true), 6);
    assert.equal(s.caughtUpAt, undefined);
    assert.equal(lagSeconds(s, 6, 5_900), 5);
    observeCommit(s, 10n, 950);
    assert.equal(lagMessages(s, true), 0);
    assert.equal(s.caughtUpAt, 1_000, 'caught up with the end read at 1000: anything newer arrived after it');
    observeEnd(s, 12n, 7_000);
    assert.equal(lagSeconds(s, lagMessages(s, true)!, 8_000), 7);
  });

  it('never moves an offset backwards (a slow offset read answering after a newer commit)', () => {
    const s: PartitionLagState = {};
    observeEnd(s, 20n, 2_000);
    observeCommit(s, 20n, 1_900);
    observeEnd(s, 15n, 1_500);
    observeCommit(s, 12n, undefined);
    assert.deepEqual([s.end, s.committed, s.lastConsumedAt], [20n, 20n, 1_900]);
    assert.equal(lagMessages(s, true), 0);
  });
});

describe('consumer lag metrics', () => {
  it('renders each source at scrape time, with group, topic and partition labels, and drops what a source no longer reports', async () => {
    const metrics = new MetricsRegistry('test-app');
    let owned = [
      { group: 'g1', topic: 'resolved.crm.public.users', partition: 0, messages: 7, seconds: 2.5 },
      { group: 'g1', topic: 'resolved.crm.public.users', partition: 1, messages: 0, seconds: 0 },
    ];
    metrics.consumerLag(() => owned);
    metrics.consumerLag(() => [{ group: 'g2', topic: 'sync.control', partition: 0, messages: 3, seconds: undefined }]);
    const text = await metrics.render();
    assert.match(text, /^sync_consumer_lag_messages\{group="g1",topic="resolved\.crm\.public\.users",partition="0",app="test-app"\} 7$/m);
    assert.match(text, /^sync_consumer_lag_messages\{group="g1",topic="resolved\.crm\.public\.users",partition="1",app="test-app"\} 0$/m);
    assert.match(text, /^sync_consumer_lag_messages\{group="g2",topic="sync\.control",partition="0",app="test-app"\} 3$/m);
    assert.match(text, /^sync_consumer_lag_seconds\{group="g1",topic="resolved\.crm\.public\.users",partition="0",app="test-app"\} 2\.5$/m);
    assert.doesNotMatch(text, /sync_consumer_lag_seconds\{group="g2"/, 'an unknown age is left out, not reported as 0');
    owned = [];
    assert.doesNotMatch(await metrics.render(), /group="g1"/, 'a partition handed to another member is no longer reported here');
  });
});
