/**
 * legacy-import vs Debezium, side by side in one run (npm run bench:compare, part of npm run bench).
 *
 * Both capture the same table shape on the same throwaway PostgreSQL 15 cluster with
 * wal_level=logical (127.0.0.1:55432, scripts/debezium.sh), into the same broker, each in its own
 * database, one after the other (two cores: running them at once would measure contention):
 *   - ours: trigger changelog -> legacy-import's capture loop -> Kafka (acks=all);
 *   - Debezium 3.0 PostgreSQL connector (pgoutput) on Kafka Connect 3.9 standalone -> Kafka.
 * Workload (capture-bench.support.ts): N rows (default 100,000) in 1,000-row transactions captured
 * from a backlog; then single-row transactions at a fixed rate (1,000/s for 15 s) for latency,
 * and for Debezium a second latency probe with poll.interval.ms lowered from its default 500.
 * Arguments: [rows] [latency seconds].
 * Prints metric | ours | Debezium | ratio and writes bench-results/compare.json. Connect, the
 * replication slot and the cluster are removed on exit, on failure and on SIGINT/SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadEnv } from '@sync/config';
import { runLegacyImportCapture, type CaptureWorkload } from './capture-bench.support';
import { runDebeziumCapture, TUNED_POLL_INTERVAL_MS } from './debezium-capture.support';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const workload: CaptureWorkload = { rows: Number(process.argv[2] ?? 100_000), rate: 1000, seconds: Number(process.argv[3] ?? 15), writers: 16 };
const brokers = [...(loadEnv().kafka.brokers ?? ['127.0.0.1:19092'])];
const logicalBase = 'postgres://postgres@127.0.0.1:55432/postgres';
const connectUrl = 'http://127.0.0.1:18083';

function debezium(cmd: 'up' | 'down'): void {
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'debezium.sh'), cmd], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`scripts/debezium.sh ${cmd} exited with ${r.status ?? r.signal}`);
}

type Better = 'higher' | 'lower';
interface Row {
  readonly metric: string;
  readonly ours: number;
  readonly debezium: number;
  readonly better: Better;
}

function table(rows: readonly Row[]): string {
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const lines = [['metric', 'ours', 'Debezium', 'ours / Debezium', 'better'], ...rows.map((r) => [r.metric, fmt(r.ours), fmt(r.debezium), ratio(r).toFixed(2), r.better])];
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const render = (l: string[]): string => `| ${l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [render(lines[0]!), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...lines.slice(1).map(render)].join('\n');
}

function ratio(r: Row): number {
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
    const connectPid = Number(readFileSync(path.join(repoRoot, '.run', 'debezium', 'connect.pid'), 'utf8').trim());
    console.error('[compare] ours: trigger changelog capture');
    const ours = await runLegacyImportCapture(logicalBase, brokers, workload);
    console.error('[compare] Debezium: PostgreSQL connector on Kafka Connect');
    const dbz = await runDebeziumCapture({ baseUrl: logicalBase, brokers, connectUrl, connectPid, workload });
    raw = { ours, debezium: dbz };
    rows = [
      { metric: 'capture throughput, backlog (rows/s)', ours: ours.captureRowsPerS, debezium: dbz.captureRowsPerS, better: 'higher' },
      { metric: `latency p50 at ${workload.rate} rows/s (ms)`, ours: ours.latency.p50, debezium: dbz.latency.p50, better: 'lower' },
      { metric: `latency p99 at ${workload.rate} rows/s (ms)`, ours: ours.latency.p99, debezium: dbz.latency.p99, better: 'lower' },
      { metric: 'latency max (ms)', ours: ours.latency.max, debezium: dbz.latency.max, better: 'lower' },
      { metric: `latency p50, Debezium poll.interval.ms=${TUNED_POLL_INTERVAL_MS} (ms)`, ours: ours.latency.p50, debezium: dbz.tunedLatency.p50, better: 'lower' },
      { metric: `latency p99, Debezium poll.interval.ms=${TUNED_POLL_INTERVAL_MS} (ms)`, ours: ours.latency.p99, debezium: dbz.tunedLatency.p99, better: 'lower' },
      { metric: 'latency probe: achieved rate (rows/s)', ours: ours.latency.achievedRate, debezium: dbz.latency.achievedRate, better: 'higher' },
      { metric: 'latency probe: events matched', ours: ours.latency.samples, debezium: dbz.latency.samples, better: 'higher' },
      { metric: 'tuned probe: achieved rate (rows/s)', ours: ours.latency.achievedRate, debezium: dbz.tunedLatency.achievedRate, better: 'higher' },
      { metric: 'legacy inserts into captured table (rows/s)', ours: ours.insertCapturedRowsPerS, debezium: dbz.insertCapturedRowsPerS, better: 'higher' },
      { metric: 'legacy inserts, uncaptured table (rows/s)', ours: ours.insertUncapturedRowsPerS, debezium: dbz.insertUncapturedRowsPerS, better: 'higher' },
      { metric: 'write overhead of capture (%)', ours: ours.writeOverheadPct, debezium: dbz.writeOverheadPct, better: 'lower' },
      { metric: 'peak RSS of the capture process (MiB)', ours: ours.peakRssMb, debezium: dbz.peakRssMb, better: 'lower' },
    ];
  } finally {
    cleanup();
  }
  console.log(`\nlegacy-import vs Debezium 3.0 PostgreSQL connector: ${workload.rows.toLocaleString('en-US')} rows backlog, then ${workload.rate} rows/s for ${workload.seconds} s\n`);
  console.log(table(rows));
  const out = path.join(repoRoot, 'bench-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    path.join(out, 'compare.json'),
    JSON.stringify({ at, workload, table: rows.map((r) => ({ ...r, ratio: Number(ratio(r).toFixed(3)) })), raw }, null, 2),
  );
  console.log(`\nJSON: ${path.join('bench-results', 'compare.json')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
