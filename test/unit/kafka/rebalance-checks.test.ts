import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { membershipSignal } from '@sync/kafka';
import { checkKeyStream } from '../../support/rebalance-checks';

describe('rebalance stream check', () => {
  it('accepts an in-order stream and a replay from an earlier commit', () => {
    assert.deepEqual(checkKeyStream('k', [0, 1, 2, 3], 3), { missing: 0, replayed: 0, stale: [] });
    assert.deepEqual(checkKeyStream('k', [0, 1, 2, 3, 2, 3, 4], 4), { missing: 0, replayed: 2, stale: [] });
  });

  it('flags a stale block written by a replica that lost the partition', () => {
    // The new owner wrote 3..6; the zombie then appended its stale 3, 4; the owner went on with 7.
    const found = checkKeyStream('k', [0, 1, 2, 3, 4, 5, 6, 3, 4, 7], 7);
    assert.equal(found.stale.length, 1);
    assert.match(found.stale[0]!, /4 followed by 7/);
    assert.equal(checkKeyStream('k', [0, 1, 2, 3, 1, 2], 3).stale.length, 1, 'a stream ending below the latest');
  });

  it('counts missing sequence numbers', () => {
    assert.equal(checkKeyStream('k', [0, 1, 3], 3).missing, 1);
  });
});

describe('membershipSignal', () => {
  it('reads the kafkajs protocol error type', () => {
    assert.equal(membershipSignal({ type: 'UNKNOWN_MEMBER_ID' }), 'lost');
    assert.equal(membershipSignal({ type: 'ILLEGAL_GENERATION' }), 'lost');
    assert.equal(membershipSignal({ type: 'REBALANCE_IN_PROGRESS' }), 'rebalancing');
    assert.equal(membershipSignal(new Error('connection closed')), 'unknown');
    assert.equal(membershipSignal(undefined), 'unknown');
  });
});
