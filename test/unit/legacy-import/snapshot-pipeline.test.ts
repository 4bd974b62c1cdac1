import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publishInSlices, ReadAhead } from '../../../apps/legacy-import/src/snapshot-pipeline';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('legacy-import: snapshot read ahead', () => {
  it('hands over the read started ahead when it is the chunk asked for, and reads only once', async () => {
    const ahead = new ReadAhead<string>();
    const reads: string[] = [];
    const read = (what: string) => async (): Promise<string> => {
      reads.push(what);
      return what;
    };
    ahead.prefetch('s:2', read('chunk 2'));
    assert.equal(ahead.holding, true);
    assert.equal(await ahead.take('s:2', read('fresh 2')), 'chunk 2');
    assert.equal(ahead.holding, false);
    // Used once: asking again reads afresh.
    assert.equal(await ahead.take('s:2', read('fresh 2')), 'fresh 2');
    assert.deepEqual(reads, ['chunk 2', 'fresh 2']);
  });

  it('reads afresh when the read ahead is for another chunk (a re-snapshot, another key) and drops it', async () => {
    const ahead = new ReadAhead<string>();
    ahead.prefetch('old:5', async () => 'stale');
    assert.equal(await ahead.take('new:null', async () => 'fresh'), 'fresh');
    assert.equal(ahead.holding, false);
    ahead.prefetch('s:1', async () => 'kept');
    ahead.clear();
    assert.equal(await ahead.take('s:1', async () => 'after clear'), 'after clear');
  });

  it('surfaces a failed read ahead in the take that uses it, once, and is no unhandled rejection before', async () => {
    const ahead = new ReadAhead<string>();
    ahead.prefetch('s:3', async () => {
      throw new Error('connection lost');
    });
    await tick();
    await assert.rejects(ahead.take('s:3', async () => 'unused'), /connection lost/);
    assert.equal(await ahead.take('s:3', async () => 'retried'), 'retried');
  });
});

describe('legacy-import: publishing a chunk in slices', () => {
  it('publishes consecutive slices in order and returns their results in order', async () => {
    const seen: number[][] = [];
    const results = await publishInSlices([1, 2, 3, 4, 5, 6, 7], 3, 2, async (slice) => {
      seen.push([...slice]);
      return slice.length;
    });
    assert.deepEqual(seen, [[1, 2, 3], [4, 5, 6], [7]]);
    assert.deepEqual(results, [3, 3, 1]);
    assert.deepEqual(await publishInSlices([], 3, 2, async () => 1), []);
  });

  it('keeps at most `inFlight` slices unacknowledged, starting the next while the one before waits', async () => {
    const acks = Array.from({ length: 5 }, () => deferred<number>());
    let started = 0;
    let maxOpen = 0;
    let open = 0;
    const done = publishInSlices([0, 1, 2, 3, 4], 1, 2, (slice) => {
      started++;
      open++;
      maxOpen = Math.max(maxOpen, open);
      return acks[slice[0]!]!.promise.finally(() => open--);
    });
    await tick();
    assert.equal(started, 2, 'slice 1 started while slice 0 waits');
    acks[1]!.resolve(1);
    await tick();
    assert.equal(started, 2, 'slice 2 waits for slice 0, the oldest, not for any');
    acks[0]!.resolve(0);
    await tick();
    assert.equal(started, 4);
    for (const a of acks.slice(2)) a.resolve(9);
    assert.deepEqual(await done, [0, 1, 9, 9, 9]);
    assert.equal(maxOpen, 2);
  });

  it('starts no slice after a failure and throws once every started slice has settled', async () => {
    const slow = deferred<string>();
    let started = 0;
    let slowSettled = false;
    const run = publishInSlices(['a', 'b', 'c', 'd'], 1, 2, (slice) => {
      started++;
      if (slice[0] === 'a') return Promise.reject(new Error('broker unavailable'));
      if (slice[0] === 'b') return slow.promise.finally(() => (slowSettled = true));
      return Promise.resolve('later');
    });
    await tick();
    assert.equal(slowSettled, false);
    slow.resolve('b');
    await assert.rejects(run, /broker unavailable/);
    assert.equal(slowSettled, true, 'the slice in flight settled before the error was thrown');
    assert.equal(started, 2, 'c and d never started');
  });

  it('treats a slice that throws while being prepared as a failure of that slice', async () => {
    await assert.rejects(
      publishInSlices([1, 2], 1, 2, (slice) => {
        if (slice[0] === 2) throw new RangeError('cannot encode');
        return Promise.resolve(1);
      }),
      /cannot encode/,
    );
    await assert.rejects(publishInSlices([1], 0, 2, async () => 1), /sliceSize/);
    await assert.rejects(publishInSlices([1], 1, 0, async () => 1), /inFlight/);
  });
});
