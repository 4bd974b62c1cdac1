import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { applyHeapFlags, heapFlags } from '@sync/app-core';
import { repoRoot } from '../../support/test-env';

// Applies the setting at run time, as runApp does, then forces one full collection with V8's
// verbose GC trace on: V8 prints the old generation's next limit and the factor it used
// ("[HeapController] Limit: old size: … KB, new limit: … KB (1.3)"). The factor is what the flag
// sets, so the check is exact and does not depend on how busy the machine is.
const FULL_GC = `
const v8 = require('node:v8');
const { applyHeapFlags } = require(${JSON.stringify(path.join(repoRoot, 'dist/libs/app-core/src/heap-tuning.js'))});
applyHeapFlags({ heapGrowingPercent: Number(process.argv[1]) });
v8.setFlagsFromString('--trace-gc-verbose');
v8.setFlagsFromString('--expose-gc');
const gc = require('node:vm').runInNewContext('gc');
const live = [];
for (let i = 0; i < 100000; i++) live.push({ k: 'key ' + i });
gc();
console.log('live', live.length);
`;

/** The growing factors V8 reported for the old generation after the forced full collection. */
function oldGenerationFactors(percent: number): number[] {
  const out = execFileSync(process.execPath, ['-e', FULL_GC, String(percent)], { encoding: 'utf8' });
  return [...out.matchAll(/\[HeapController\] Limit: .*\(([\d.]+)\)/g)].map((m) => Number(m[1]));
}

describe('heap tuning (HEAP_GROWING_PERCENT)', () => {
  it('turns the setting into V8 flags, none for 0 (V8 decides)', () => {
    assert.deepEqual(heapFlags({ heapGrowingPercent: 30 }), ['--heap-growing-percent=30']);
    assert.deepEqual(heapFlags({ heapGrowingPercent: 0 }), []);
    const set: string[] = [];
    assert.deepEqual(applyHeapFlags({ heapGrowingPercent: 50 }, (flag) => set.push(flag)), ['--heap-growing-percent=50']);
    assert.deepEqual(set, ['--heap-growing-percent=50']);
  });

  it('set at run time, it is the factor V8 grows the old generation by after a full collection', () => {
    for (const percent of [30, 100]) {
      const factors = oldGenerationFactors(percent);
      assert.ok(factors.length > 0, `no old-generation limit in V8's trace with ${percent} %`);
      assert.deepEqual(new Set(factors), new Set([1 + percent / 100]), `factors with ${percent} %: ${factors.join(', ')}`);
    }
  });
});
