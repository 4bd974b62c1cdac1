import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { applyHeapFlags, heapFlags } from '@sync/app-core';
import { repoRoot } from '../../support/test-env';

// Holds ~40 MiB of live objects and churns batches that live through a few scavenges (promoted,
// then garbage), as a consumer's batches do; prints the most V8 reserved for its old generation.
const CHURN = `
const v8 = require('node:v8');
const { applyHeapFlags } = require(${JSON.stringify(path.join(repoRoot, 'dist/libs/app-core/src/heap-tuning.js'))});
applyHeapFlags({ heapGrowingPercent: Number(process.argv[1]) });
const live = [];
for (let i = 0; i < 300000; i++) live.push({ k: 'key ' + i + ' '.repeat(40), v: [i, i + 1] });
const recent = [];
let most = 0;
for (let round = 0; round < 200; round++) {
  recent.push(Array.from({ length: 5000 }, (_, i) => ({ a: 'row ' + i + ' ' + round, b: { c: i, d: [round, i] } })));
  if (recent.length > 4) recent.shift();
  most = Math.max(most, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size);
}
console.log(Math.round(most / 1048576), live.length);
`;

function mostOldSpaceMib(percent: number): number {
  const out = execFileSync(process.execPath, ['-e', CHURN, String(percent)], { encoding: 'utf8' });
  return Number(out.split(' ')[0]);
}

describe('heap tuning (HEAP_GROWING_PERCENT)', () => {
  it('turns the setting into V8 flags, none for 0 (V8 decides)', () => {
    assert.deepEqual(heapFlags({ heapGrowingPercent: 30 }), ['--heap-growing-percent=30']);
    assert.deepEqual(heapFlags({ heapGrowingPercent: 0 }), []);
    const set: string[] = [];
    assert.deepEqual(applyHeapFlags({ heapGrowingPercent: 50 }, (flag) => set.push(flag)), ['--heap-growing-percent=50']);
    assert.deepEqual(set, ['--heap-growing-percent=50']);
  });

  it('set at run time, it bounds how far the heap outgrows its live data', () => {
    // Both ends fixed by the flag (V8's own factor depends on how fast GC and program run, so
    // on a loaded machine): 300 % is the most V8's own factor allows on a large host.
    const bounded = mostOldSpaceMib(30);
    const loose = mostOldSpaceMib(300);
    assert.ok(bounded * 1.2 < loose, `most old space reserved: ${bounded} MiB with 30 %, ${loose} MiB with 300 %`);
  });
});
