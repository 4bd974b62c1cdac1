import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeState, encodeState, snapshotRate, type CaptureState } from '../../../apps/legacy-import/src/capture-state';

describe('legacy-import: snapshot state with progress', () => {
  it('round-trips the progress, and reads states saved without it (older versions)', () => {
    const state: CaptureState = { phase: 'snapshot', snapshotId: 's', afterKey: { id: 3 }, streamFrom: 'p', progress: { done: 300, total: 1200, startedAt: '2026-12-06T10:00:00.000Z' } };
    assert.deepEqual(decodeState(encodeState(state)), state);
    assert.deepEqual(decodeState('{"phase":"snapshot","snapshotId":"s","afterKey":null,"streamFrom":"p"}'), { phase: 'snapshot', snapshotId: 's', afterKey: null, streamFrom: 'p' });
    assert.deepEqual(decodeState('{"phase":"snapshot","snapshotId":"s","afterKey":null,"streamFrom":"p","progress":{"done":"x"}}'), { phase: 'snapshot', snapshotId: 's', afterKey: null, streamFrom: 'p' }, 'a malformed progress is dropped, not the state');
  });

  it('a streaming state keeps the last finished snapshot (what sync-ctl resnapshot --wait waits for)', () => {
    const state: CaptureState = { phase: 'streaming', position: 'p', lastSnapshot: { snapshotId: 's', finishedAt: '2026-12-06T10:00:05.000Z', rows: 1200 } };
    assert.deepEqual(decodeState(encodeState(state)), state);
    assert.deepEqual(decodeState('{"phase":"streaming","position":"p"}'), { phase: 'streaming', position: 'p' });
    assert.deepEqual(decodeState('{"phase":"streaming","position":"p","lastSnapshot":{"snapshotId":"s"}}'), { phase: 'streaming', position: 'p' }, 'a malformed record of it is dropped, not the state');
  });

  it('derives the average rate and the ETA', () => {
    const started = Date.parse('2026-12-06T10:00:00Z');
    assert.deepEqual(snapshotRate({ done: 300, total: 1200, startedAt: '2026-12-06T10:00:00Z' }, started + 10_000), { rowsPerSecond: 30, etaSeconds: 30 });
    assert.deepEqual(snapshotRate({ done: 0, total: 1200, startedAt: '2026-12-06T10:00:00Z' }, started), { rowsPerSecond: 0, etaSeconds: undefined });
  });
});
