/**
 * Initial snapshot benchmark (npm run bench:snapshot [rows] [rounds]): legacy-import's snapshot
 * and Debezium's initial snapshot of the same table, alternately, in one run.
 *
 * The table (default 1,000,000 rows): int primary key, three short texts, numeric(12,2),
 * timestamptz, boolean; loaded in one statement, then VACUUM (FREEZE, ANALYZE) so neither side
 * pays for setting hint bits on rows the other already read.
 *   - With `bash scripts/debezium.sh up` working (a throwaway wal_level=logical cluster on
 *     127.0.0.1:55432 and Kafka Connect on 18083, against the broker on KAFKA_BROKERS): both sides
 *     read the same table in the same database of that cluster, ours first in each round.
 *   - Otherwise (or SNAPSHOT_DEBEZIUM=0): ours alone, on the shared PostgreSQL (127.0.0.1:5432).
 * Ours runs in a forked process (snapshot-importer.process.ts): the capture loop with the app's
 * producer (acks=all), from an empty state, timed until the state that ends the snapshot is saved
 * (after every record was acknowledged). Debezium is timed from the connector's creation until
 * the topic's high watermark holds every row.
 * Per run: rows/s, seconds, CPU seconds of the capturing process (our Node process; the Connect
 * JVM), of PostgreSQL (all processes of the logical cluster; not measured on the shared one),
 * peak RSS, and the 1-minute load average before the run (2 shared cores: read CPU-s next to wall
 * clock). Topics are emptied after each run.
 * Environment: KAFKA_BROKERS (127.0.0.1:19092), SNAPSHOT_CAPTURE (extra `capture:` settings of
 * our table in YAML flow syntax, e.g. "snapshotChunkSize: 5000"), SNAPSHOT_CPU_PROF (a directory:
 * our process runs with --cpu-prof there; summarise with cpu-profile-top.js), SNAPSHOT_DEBEZIUM=0.
 * Prints a table and writes bench-results/snapshot.json. Nothing is asserted.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { loadEnv } from '@sync/config';
import { KafkaConnection, silentLog } from '@sync/kafka';
import { exec, ratePerSecond, withBenchDatabase } from './capture-bench.support';
import { debeziumScript, snapshotDebezium } from './debezium-capture.support';
import type { SnapshotJob, SnapshotRun } from './snapshot-importer.process';
import { repoRoot, runMain } from '../lib/script-main';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = Number(process.argv[3] ?? 1);
const TABLE = 'snap_rows';
const brokers = [...(loadEnv().kafka.brokers ?? ['127.0.0.1:19092'])];
const sharedBase = 'postgres://postgres@127.0.0.1:5432/postgres';
const logicalBase = `postgres://postgres@127.0.0.1:${process.env['PG_LOGICAL_PORT'] ?? '55432'}/postgres`;
const connectUrl = `http://127.0.0.1:${process.env['CONNECT_PORT'] ?? '18083'}`;
const runDir = process.env['SYNC_RUN_DIR'] ?? path.join(repoRoot, '.run');
const extraCapture = process.env['SNAPSHOT_CAPTURE'] ?? '';
const profileDir = process.env['SNAPSHOT_CPU_PROF'];

const TABLE_DDL = `CREATE TABLE ${TABLE} (
  id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, city text, amount numeric(12,2), updated_at timestamptz NOT NULL, active boolean NOT NULL)`;
const LOAD_SQL = `INSERT INTO ${TABLE}
  SELECT g, 'name ' || g, 'user' || g || '@example.com', (ARRAY['Berlin', 'Paris', 'Lisbon', 'Oslo', NULL])[g % 5 + 1],
         (g % 100000) * 1.25, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', g % 3 = 0
  FROM generate_series(1, $1::int) g`;

interface RunFigures {
  readonly side: 'ours' | 'debezium';
  readonly round: number;
  readonly rowsPerS: number;
  readonly seconds: number;
  readonly cpuS: number;
  readonly dbCpuS: number | null;
  readonly peakRssMb: number;
  readonly load1: number;
}


/**
 * CPU seconds used so far by a PostgreSQL cluster: the postmaster, the children it already reaped
 * (backends that exited: cutime/cstime) and its live children.
 */
function clusterCpuSeconds(postmasterPid: number): number {
  const ticks = (pid: number): { self: number; reaped: number; ppid: number } | undefined => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { ppid: Number(f[1]), self: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
    } catch {
      return undefined;
    }
  };
  const main = ticks(postmasterPid);
  if (!main) return NaN;
  let total = main.self + main.reaped;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const t = ticks(Number(name));
    if (t?.ppid === postmasterPid) total += t.self;
  }
  return total / 100;
}

/** Runs our snapshot in a forked process; resolves with what it measured. */
function snapshotOurs(job: SnapshotJob): Promise<SnapshotRun> {
  const script = path.join(__dirname, 'snapshot-importer.process.js');
  const execArgv = ['--enable-source-maps', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  return new Promise((resolve, reject) => {
    const child = fork(script, [JSON.stringify(job)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    child.on('message', (m: { ok: boolean; run?: SnapshotRun; error?: string }) => {
      settled = true;
      if (m.ok) resolve(m.run!);
      else reject(new Error(`our snapshot failed: ${m.error}`));
    });
    child.on('exit', (code, signal) => {
      if (!settled) reject(new Error(`our snapshot process exited with ${code ?? signal} before reporting`));
    });
  });
}

/** Frees the broker's disk: every record of the topic is deleted (the topic stays, empty). */
async function emptyTopic(kafka: KafkaConnection, topic: string): Promise<void> {
  const admin = kafka.admin();
  try {
    const parts = await admin.partitionOffsets(topic);
    await admin.deleteRecordsBefore(topic, parts.map((p) => ({ partition: p.partition, offset: p.high })));
  } finally {
    await admin.disconnect();
  }
}

function table(runs: readonly RunFigures[]): string {
  const head = ['side', 'round', 'rows/s', 's', 'CPU-s process', 'CPU-s PostgreSQL', 'peak RSS MiB', 'load1 before'];
  const rows = runs.map((r) => [r.side, String(r.round), r.rowsPerS.toLocaleString('en-US'), r.seconds.toFixed(1), r.cpuS.toFixed(1), r.dbCpuS === null ? 'n/a' : r.dbCpuS.toFixed(1), String(r.peakRssMb), r.load1.toFixed(2)]);
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((l) => l[i]!.length)));
  const line = (l: string[]): string => `| ${l.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i < 1 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  if (!Number.isSafeInteger(ROWS) || ROWS < 1 || !Number.isSafeInteger(ROUNDS) || ROUNDS < 1) throw new Error('usage: snapshot.bench.js [rows>=1] [rounds>=1]');
  const at = new Date().toISOString();
  const wasRunning = debeziumScript('status');
  const withDebezium = process.env['SNAPSHOT_DEBEZIUM'] !== '0' && (wasRunning || debeziumScript('up'));
  if (!withDebezium) console.error('[snapshot] Debezium not available: ours alone, on the shared PostgreSQL');
  const connectPid = withDebezium ? Number(readFileSync(path.join(runDir, 'debezium', 'connect.pid'), 'utf8').trim()) : 0;
  const postmasterFile = path.join(runDir, 'pg-logical', 'data', 'postmaster.pid');
  const postmasterPid = withDebezium && existsSync(postmasterFile) ? Number(readFileSync(postmasterFile, 'utf8').split('\n')[0]) : undefined;
  const dbCpu = (): number | null => (postmasterPid === undefined ? null : clusterCpuSeconds(postmasterPid));
  const kafka = new KafkaConnection({ brokers, clientId: 'bench-snapshot-main' }, silentLog);
  const runs: RunFigures[] = [];
  try {
    await withBenchDatabase(withDebezium ? logicalBase : sharedBase, 'bench_snap', async (url) => {
      console.error(`[snapshot] loading ${ROWS.toLocaleString('en-US')} rows`);
      await exec(url, TABLE_DDL);
      await exec(url, LOAD_SQL, [ROWS]);
      await exec(url, `VACUUM (FREEZE, ANALYZE) ${TABLE}`);
      for (let round = 1; round <= ROUNDS; round++) {
        const load1 = loadavg()[0]!;
        const db0 = dbCpu();
        const system = `snap${Date.now().toString(36)}`;
        console.error(`[snapshot] round ${round}: ours${extraCapture ? ` (capture: ${extraCapture})` : ''}`);
        const ours = await snapshotOurs({ url, brokers, system, table: TABLE, rows: ROWS, capture: extraCapture });
        const db1 = dbCpu();
        if (ours.records !== ROWS) console.error(`[snapshot] WARNING: ours published ${ours.records} records for ${ROWS} rows`);
        runs.push({
          side: 'ours', round, rowsPerS: ratePerSecond(ROWS, ours.ms), seconds: ours.ms / 1000, cpuS: ours.cpuUserS + ours.cpuSystemS,
          dbCpuS: db0 === null || db1 === null ? null : db1 - db0, peakRssMb: ours.peakRssMb, load1,
        });
        await emptyTopic(kafka, ours.topic);
        if (!withDebezium) continue;
        const dLoad1 = loadavg()[0]!;
        const d0 = dbCpu();
        console.error(`[snapshot] round ${round}: Debezium`);
        const dbz = await snapshotDebezium({ url, brokers, connectUrl, connectPid, table: TABLE, rows: ROWS });
        const d1 = dbCpu();
        runs.push({
          side: 'debezium', round, rowsPerS: ratePerSecond(ROWS, dbz.ms), seconds: dbz.ms / 1000, cpuS: dbz.cpuS,
          dbCpuS: d0 === null || d1 === null ? null : d1 - d0, peakRssMb: dbz.peakRssMb, load1: dLoad1,
        });
        await emptyTopic(kafka, dbz.topic);
      }
    });
  } finally {
    if (withDebezium && !wasRunning) debeziumScript('down');
  }
  const oursRate = median(runs.filter((r) => r.side === 'ours').map((r) => r.rowsPerS));
  const dbzRate = median(runs.filter((r) => r.side === 'debezium').map((r) => r.rowsPerS));
  console.log(`\ninitial snapshot of ${ROWS.toLocaleString('en-US')} rows (${withDebezium ? 'logical cluster :55432, alternately with Debezium' : 'shared PostgreSQL :5432'}), ${ROUNDS} round(s)${extraCapture ? `, capture: { ${extraCapture} }` : ''}\n`);
  console.log(table(runs));
  console.log(`\nmedian rows/s: ours ${Math.round(oursRate).toLocaleString('en-US')}${withDebezium ? `, Debezium ${Math.round(dbzRate).toLocaleString('en-US')}, ours / Debezium ${(oursRate / dbzRate).toFixed(2)}` : ''}`);
  const out = path.join(repoRoot, 'bench-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'snapshot.json'), JSON.stringify({ at, rows: ROWS, rounds: ROUNDS, capture: extraCapture, withDebezium, runs, medianRowsPerS: { ours: oursRate, debezium: withDebezium ? dbzRate : null } }, null, 2));
  console.log(`JSON: ${path.join('bench-results', 'snapshot.json')}`);
}

runMain(main);
