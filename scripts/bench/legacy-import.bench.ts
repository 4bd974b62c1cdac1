/**
 * Capture benchmark (npm run bench:legacy-import), on this machine with broker and database local:
 *   1. throughput: N rows (default 200,000) inserted into a captured table in 1,000-row
 *      transactions, then read from the trigger changelog and published to Kafka with acks=all
 *      by the importer's capture loop (batchSize 5,000), timed until the last batch is acknowledged;
 *   2. latency at a fixed rate: 1,000 single-row transactions per second for 20 s; per row, the
 *      time from COMMIT returning to the event being consumed from Kafka; p50 / p99 / max;
 *   3. trigger overhead: the same N-row insert into a table without and with the capture trigger;
 *   4. single-row commit capacity (8 sessions, unpaced, 2 alternating rounds of 3 s) without and with the trigger.
 * Latency and overhead are measured twice: with the default trigger (NOTIFY wake-up) and with
 * `capture: { notify: false }` polled every 20 ms (the `notify_off_*` figures).
 * KAFKA_BROKERS (default 127.0.0.1:19092) points at the broker; PostgreSQL on 127.0.0.1:5432. Prints
 * a table and writes bench-results/legacy-import.json. Nothing is asserted. The workload lives in
 * capture-bench.support.ts, shared with the Debezium comparison (compare.bench.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadEnv } from '@sync/config';
import { runLegacyImportCapture } from './capture-bench.support';
import { repoRoot, runMain } from '../lib/script-main';

const N = Number(process.argv[2] ?? 200_000);
const brokers = [...(loadEnv().kafka.brokers ?? ['127.0.0.1:19092'])];
const baseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

async function main(): Promise<void> {
  const r = await runLegacyImportCapture(baseUrl, brokers, { rows: N, rate: 1000, seconds: 20, writers: 8 });
  const results: Record<string, number> = {
    rows: r.rows,
    insert_without_trigger_rows_per_s: r.insertUncapturedRowsPerS,
    insert_with_trigger_rows_per_s: r.insertCapturedRowsPerS,
    trigger_overhead_pct: r.writeOverheadPct,
    capture_rows_per_s: r.captureRowsPerS,
    latency_rate_rows_per_s: r.latency.achievedRate,
    latency_samples: r.latency.samples,
    latency_p50_ms: r.latency.p50,
    latency_p99_ms: r.latency.p99,
    latency_max_ms: r.latency.max,
    single_row_commits_per_s_without_trigger: r.commitsUncapturedPerS,
    single_row_commits_per_s_with_trigger: r.commitsCapturedPerS,
    notify_off_poll_interval_ms: r.notifyOff.pollIntervalMs,
    notify_off_insert_with_trigger_rows_per_s: r.notifyOff.insertCapturedRowsPerS,
    notify_off_trigger_overhead_pct: r.notifyOff.writeOverheadPct,
    notify_off_latency_rate_rows_per_s: r.notifyOff.latency.achievedRate,
    notify_off_latency_samples: r.notifyOff.latency.samples,
    notify_off_latency_p50_ms: r.notifyOff.latency.p50,
    notify_off_latency_p99_ms: r.notifyOff.latency.p99,
    notify_off_latency_max_ms: r.notifyOff.latency.max,
    notify_off_single_row_commits_per_s: r.notifyOff.commitsCapturedPerS,
    peak_rss_mb: r.peakRssMb,
  };
  console.log('\nlegacy-import capture benchmark (PostgreSQL trigger changelog -> Kafka, acks=all)');
  for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(42)} ${v.toLocaleString('en-US')}`);
  const out = path.join(repoRoot, 'bench-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'legacy-import.json'), JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2));
}

runMain(main);
