/**
 * Pacing, latency statistics and process memory for the latency benchmarks (capture-bench.support,
 * two-way.bench): the parts that decide whether two figures were measured under the same load.
 */
import { readFileSync } from 'node:fs';
import { sleep } from '../lib/wait';

export interface PacedResult {
  /** Operations that completed. */
  readonly operations: number;
  /** From the first operation's due time to the last completion. */
  readonly elapsedMs: number;
  /** operations / elapsed, per second: compare it with the target before reading latencies. */
  readonly achievedRate: number;
  /** How late the latest-started operation began after its due time (the schedule's slack). */
  readonly maxStartLagMs: number;
}

/**
 * Runs `rate × seconds` operations open-loop: operation i is due at begin + i / rate, and each of
 * `concurrency` workers takes the next operation as soon as it is free and waits for its due time.
 * A slow operation delays only itself and later ones catch up (no drift); the rate falls short of
 * the target only when all workers are busy, and then `achievedRate` says so.
 */
export async function runPaced(opts: {
  readonly rate: number;
  readonly seconds: number;
  readonly concurrency: number;
  readonly operation: (i: number, worker: number) => Promise<void>;
}): Promise<PacedResult> {
  const total = Math.round(opts.rate * opts.seconds);
  let next = 0;
  let done = 0;
  let maxStartLagMs = 0;
  let lastFinish = 0;
  const begin = performance.now() + 50;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async (_, worker) => {
      for (let i = next++; i < total; i = next++) {
        const due = begin + (i * 1000) / opts.rate;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        maxStartLagMs = Math.max(maxStartLagMs, performance.now() - due);
        await opts.operation(i, worker);
        done++;
        lastFinish = performance.now();
      }
    }),
  );
  const elapsedMs = Math.max(1, lastFinish - begin);
  return { operations: done, elapsedMs: Math.round(elapsedMs), achievedRate: Math.round((done * 1000) / elapsedMs), maxStartLagMs: Math.round(maxStartLagMs) };
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export interface LatencySummary {
  readonly samples: number;
  /** Operations whose result was not observed before the deadline. */
  readonly missing: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function latencySummary(latenciesMs: readonly number[], expected: number): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    missing: Math.max(0, expected - sorted.length),
    p50: Math.round(percentile(sorted, 50)),
    p99: Math.round(percentile(sorted, 99)),
    max: Math.round(sorted[sorted.length - 1] ?? NaN),
  };
}

/** A `kB` field of /proc/<pid>/status in bytes (VmRSS: resident now; VmHWM: the peak resident). */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Relative difference of two rates, in percent of the larger one. */
export function rateGapPct(a: number, b: number): number {
  const hi = Math.max(a, b);
  return hi === 0 ? 0 : Math.round((Math.abs(a - b) / hi) * 100);
}
