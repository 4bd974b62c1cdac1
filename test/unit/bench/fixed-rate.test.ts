import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { latencySummary, percentile, rateGapPct, runPaced } from '../../../scripts/bench/fixed-rate.support';

describe('benchmark pacing and statistics (scripts/bench/fixed-rate.support.ts)', () => {
  it('runPaced runs every operation exactly once, never more at a time than its workers', async () => {
    const seen: number[] = [];
    let active = 0;
    let peak = 0;
    const result = await runPaced({
      rate: 2000,
      seconds: 0.05,
      concurrency: 3,
      operation: async (i) => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 1));
        seen.push(i);
        active--;
      },
    });
    assert.equal(result.operations, 100);
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
    assert.ok(peak <= 3, `at most 3 at a time, saw ${peak}`);
    assert.ok(result.achievedRate > 0);
  });

  it('latencySummary reports percentiles of what arrived and counts what did not', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1, unsorted
    assert.deepEqual(latencySummary(samples, 104), { samples: 100, missing: 4, p50: 51, p99: 100, max: 100 });
    assert.equal(percentile([], 50), NaN);
    assert.deepEqual(latencySummary([], 3).missing, 3);
  });

  it('rateGapPct is the difference in percent of the larger rate (the compare bench warns above 10)', () => {
    assert.equal(rateGapPct(332, 945), 65);
    assert.equal(rateGapPct(945, 332), 65);
    assert.equal(rateGapPct(500, 500), 0);
    assert.equal(rateGapPct(0, 0), 0);
    assert.equal(rateGapPct(450, 500), 10);
  });
});
