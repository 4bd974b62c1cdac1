/**
 * legacy-import vs Debezium, side by side in one run (npm run bench:compare, part of npm run bench).
 *
 * Both capture the same table shape on the same throwaway PostgreSQL 15 cluster with
 * wal_level=logical (127.0.0.1:55432, scripts/debezium.sh), into the same broker, each in its own
 * database, one after the other (two cores: running them at once would measure contention):
 *   - ours: trigger changelog -> legacy-import's capture loop -> Kafka (acks=all);
 *   - Debezium 3.0 PostgreSQL connector (pgoutput) on Kafka Connect 3.9 standalone -> Kafka.
 * Workload (capture-bench.support.ts): N rows (default 100,000) in 1,000-row transactions captured
 * from a backlog; single-row transactions at a fixed rate (default 500/s for 15 s, 16 sessions: a
 * rate both sides reach on this shared 2-core machine; pass 1000 as the third argument)
 * for latency; then the single-row commit capacity (16 sessions, unpaced, 2 alternating rounds of 3 s per table).
 * Latency rows compare runs at the same achieved rate: ours with `capture: { notify: false }`
 * polled every NOTIFY_OFF_POLL_INTERVAL_MS against Debezium's default and tuned probes. Ours with
 * the NOTIFY wake-up is shown too; a WARNING row marks any pair whose achieved rates differ by
 * more than 10 %, because then the latencies were measured under different loads.
 * Arguments: [rows] [latency seconds] [rate]. Environment as scripts/debezium.sh: KAFKA_BROKERS,
 * CONNECT_PORT (18083), PG_LOGICAL_PORT (55432), SYNC_RUN_DIR (.run).
 * Prints metric | ours | Debezium | ratio and writes bench-results/compare.json. Connect, the
 * replication slot and the cluster are removed on exit, on failure and on SIGINT/SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadEnv } from '@sync/config';
import { NOTIFY_OFF_POLL_INTERVAL_MS, runLegacyImportCapture, type CaptureWorkload } from './capture-bench.support';
import { runDebeziumCapture, TUNED_POLL_INTERVAL_MS } from './debezium-capture.support';
import { rateGapPct } from './fixed-rate.support';
import { repoRoot, runMain } from '../lib/script-main';

const workload: CaptureWorkload = { rows: Number(process.argv[2] ?? 100_000), rate: Number(process.argv[4] ?? 500), seconds: Number(process.argv[3] ?? 15), writers: 16 };
const brokers = [...(loadEnv().kafka.brokers ?? ['127.0.0.1:19092'])];
// The same defaults and variables as scripts/debezium.sh, which starts both.
const logicalBase = `postgres://postgres@127.0.0.1:${process.env['PG_LOGICAL_PORT'] ?? '55432'}/postgres`;
const connectUrl = `http://127.0.0.1:${process.env['CONNECT_PORT'] ?? '18083'}`;
const runDir = process.env['SYNC_RUN_DIR'] ?? path.join(repoRoot, '.run');
/** Achieved rates further apart than this (in %) make a latency comparison meaningless. */
const MAX_RATE_GAP_PCT = 10;

function debezium(cmd: 'up' | 'down'): void {
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'debezium.sh'), cmd], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`scripts/debezium.sh ${cmd} exited with ${r.status ?? r.signal}`);
}

type Better = 'higher' | 'lower';
type Row =
  | { readonly metric: string; readonly ours: number; readonly debezium: number; readonly better: Better }
  | { readonly warning: string };

/** The achieved-rate row of a latency pair, followed by a WARNING row when the rates differ too much. */
function rateRows(metric: string, ours: number, debezium: number): Row[] {
  const rows: Row[] = [{ metric, ours, debezium, better: 'higher' }];
  const gap = rateGapPct(ours, debezium);
  if (gap > MAX_RATE_GAP_PCT) {
    rows.push({ warning: `WARNING: achieved rates differ by ${gap} % (ours ${ours}/s, Debezium ${debezium}/s): the latency rows above were measured under different loads` });
  }
  return rows;
}

function table(rows: readonly Row[]): string {
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const data = rows.flatMap((r) => ('warning' in r ? [] : [[r.metric, fmt(r.ours), fmt(r.debezium), ratio(r).toFixed(2), r.better]]));
  const head = ['metric', 'ours', 'Debezium', 'ours / Debezium', 'better'];
  const widths = head.map((_, i) => Math.max(...[head, ...data].map((l) => l[i]!.length)));
  const render = (l: string[]): string => `| ${l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const body = rows.map((r) => ('warning' in r ? `| **${r.warning}** | | | | |` : render([r.metric, fmt(r.ours), fmt(r.debezium), ratio(r).toFixed(2), r.better])));
  return [render(head), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body].join('\n');
}

function ratio(r: { readonly ours: number; readonly debezium: number }): number {
  return r.debezium === 0 ? NaN : r.ours / r.debezium;
}

async function main(): Promise<void> {
  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    try {
      debezium('down');
    } catch (err) {
      console.error(err);
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  const at = new Date().toISOString();
  let rows: Row[];
  let raw: Record<string, unknown>;
  try {
    debezium('up');
    const connectPid = Number(readFileSync(path.join(runDir, 'debezium', 'connect.pid'), 'utf8').trim());
    console.error('[compare] ours: trigger changelog capture');
    const ours = await runLegacyImportCapture(logicalBase, brokers, workload);
    console.error('[compare] Debezium: PostgreSQL connector on Kafka Connect');
    const dbz = await runDebeziumCapture({ baseUrl: logicalBase, brokers, connectUrl, connectPid, workload });
    raw = { ours, debezium: dbz };
    const off = ours.notifyOff;
    const R = workload.rate;
    rows = [
      { metric: 'capture throughput, backlog (rows/s)', ours: ours.captureRowsPerS, debezium: dbz.captureRowsPerS, better: 'higher' },
      { metric: `latency p50 at ${R}/s (ms)`, ours: off.latency.p50, debezium: dbz.latency.p50, better: 'lower' },
      { metric: `latency p99 at ${R}/s (ms)`, ours: off.latency.p99, debezium: dbz.latency.p99, better: 'lower' },
      { metric: `latency max at ${R}/s (ms)`, ours: off.latency.max, debezium: dbz.latency.max, better: 'lower' },
      { metric: '  events matched', ours: off.latency.samples, debezium: dbz.latency.samples, better: 'higher' },
      ...rateRows('  achieved rate (commits/s)', off.latency.achievedRate, dbz.latency.achievedRate),
      { metric: `latency p50, Debezium poll.interval.ms=${TUNED_POLL_INTERVAL_MS} (ms)`, ours: off.latency.p50, debezium: dbz.tunedLatency.p50, better: 'lower' },
      { metric: `latency p99, Debezium poll.interval.ms=${TUNED_POLL_INTERVAL_MS} (ms)`, ours: off.latency.p99, debezium: dbz.tunedLatency.p99, better: 'lower' },
      { metric: `latency max, Debezium poll.interval.ms=${TUNED_POLL_INTERVAL_MS} (ms)`, ours: off.latency.max, debezium: dbz.tunedLatency.max, better: 'lower' },
      ...rateRows('  achieved rate (commits/s)', off.latency.achievedRate, dbz.tunedLatency.achievedRate),
      { metric: `latency p50 at ${R}/s, ours with NOTIFY (ms)`, ours: ours.latency.p50, debezium: dbz.latency.p50, better: 'lower' },
      { metric: `latency p99 at ${R}/s, ours with NOTIFY (ms)`, ours: ours.latency.p99, debezium: dbz.latency.p99, better: 'lower' },
      ...rateRows('  achieved rate (commits/s)', ours.latency.achievedRate, dbz.latency.achievedRate),
      { metric: 'legacy inserts, uncaptured table (rows/s)', ours: ours.insertUncapturedRowsPerS, debezium: dbz.insertUncapturedRowsPerS, better: 'higher' },
      { metric: 'legacy inserts, captured (rows/s)', ours: off.insertCapturedRowsPerS, debezium: dbz.insertCapturedRowsPerS, better: 'higher' },
      { metric: 'legacy inserts, captured, ours with NOTIFY (rows/s)', ours: ours.insertCapturedRowsPerS, debezium: dbz.insertCapturedRowsPerS, better: 'higher' },
      { metric: 'write overhead of capture (%)', ours: off.writeOverheadPct, debezium: dbz.writeOverheadPct, better: 'lower' },
      { metric: 'write overhead of capture, ours with NOTIFY (%)', ours: ours.writeOverheadPct, debezium: dbz.writeOverheadPct, better: 'lower' },
      { metric: `single-row commits/s, ${workload.writers} sessions, uncaptured`, ours: ours.commitsUncapturedPerS, debezium: dbz.commitsUncapturedPerS, better: 'higher' },
      { metric: 'single-row commits/s, captured', ours: off.commitsCapturedPerS, debezium: dbz.commitsCapturedPerS, better: 'higher' },
      { metric: 'single-row commits/s, captured, ours with NOTIFY', ours: ours.commitsCapturedPerS, debezium: dbz.commitsCapturedPerS, better: 'higher' },
      { metric: 'peak RSS of the capture process (MiB)', ours: ours.peakRssMb, debezium: dbz.peakRssMb, better: 'lower' },
    ];
  } finally {
    cleanup();
  }
  console.log(
    `\nlegacy-import vs Debezium 3.0 PostgreSQL connector: ${workload.rows.toLocaleString('en-US')} rows backlog, then ${workload.rate} single-row commits/s for ${workload.seconds} s ` +
      `(${workload.writers} sessions).\nOurs: capture { notify: false }, polled every ${NOTIFY_OFF_POLL_INTERVAL_MS} ms, unless the row says "with NOTIFY" (the default trigger, poll 200 ms + NOTIFY wake-up).\n`,
  );
  console.log(table(rows));
  const out = path.join(repoRoot, 'bench-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    path.join(out, 'compare.json'),
    JSON.stringify({ at, workload, notifyOffPollIntervalMs: NOTIFY_OFF_POLL_INTERVAL_MS, table: rows.map((r) => ('warning' in r ? r : { ...r, ratio: Number(ratio(r).toFixed(3)) })), raw }, null, 2),
  );
  console.log(`\nJSON: ${path.join('bench-results', 'compare.json')}`);
}

runMain(main);
