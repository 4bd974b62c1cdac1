/**
 * The capture workload shared by bench:legacy-import and the Debezium comparison
 * (compare.bench.ts): the same table, the same inserts, the same fixed-rate latency probe, so
 * both sides of the comparison are measured by the same code.
 */
import { Client } from 'pg';
import { ENV_DEFAULTS, parsePipeline } from '@sync/config';
import { Topics } from '@sync/contracts';
import { applyDdl, changelogDdl, createCaptureSource, createLegacyDb, NOTIFY_CHANNEL, PostgresLegacyDb } from '@sync/legacy-db';
import { KafkaConnection, silentLog, type SyncProducer } from '@sync/kafka';
import { createLogger, MetricsRegistry } from '@sync/observability';
import { captureMetrics } from '../../apps/legacy-import/src/capture.metrics';
import { TableCaptureRunner } from '../../apps/legacy-import/src/table-capture.runner';
import { encodeState } from '../../apps/legacy-import/src/capture-state';
import { latencySummary, procStatusBytes, runPaced } from './fixed-rate.support';
import { sleep, waitUntil } from '../lib/wait';

export const BENCH_TABLE_DDL = '(id int PRIMARY KEY, name text, amount numeric(12,2))';

export interface CaptureWorkload {
  /** Rows pre-inserted (1,000-row transactions) and then captured as fast as possible. */
  readonly rows: number;
  /** Single-row transactions per second during the latency probe, for `seconds`. */
  readonly rate: number;
  readonly seconds: number;
  /** Writer sessions for the latency probe: one session alone cannot commit 1,000 tx/s here. */
  readonly writers: number;
}

export interface LatencyResult {
  readonly achievedRate: number;
  readonly samples: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function ratePerSecond(rows: number, ms: number): number {
  return Math.round(rows / (ms / 1000));
}

export async function exec(url: string, sql: string, params: unknown[] = []): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql, params);
  } finally {
    await c.end();
  }
}

/** Inserts ids first..first+n-1 in 1,000-row transactions; returns the elapsed milliseconds. */
export async function insertRows(url: string, table: string, n: number, first = 1): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const start = performance.now();
    for (let i = 0; i < n; i += 1000) {
      await c.query(`INSERT INTO ${table} (id, name, amount) SELECT g, 'name ' || g, g * 1.5 FROM generate_series($1::int, $2::int) g`, [
        first + i,
        first + Math.min(n, i + 1000) - 1,
      ]);
    }
    return performance.now() - start;
  } finally {
    await c.end();
  }
}

/** Creates a fresh database next to `baseUrl` (a URL ending in /postgres), runs `fn`, drops it. */
export async function withBenchDatabase<T>(baseUrl: string, prefix: string, fn: (url: string) => Promise<T>): Promise<T> {
  const dbName = `${prefix}_${Date.now().toString(36)}`;
  await exec(baseUrl, `CREATE DATABASE ${dbName}`);
  try {
    return await fn(baseUrl.replace(/\/postgres$/, `/${dbName}`));
  } finally {
    await exec(baseUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
  }
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function vmRssBytes(pid: number): number {
  return procStatusBytes(pid, 'VmRSS');
}

/** Samples `read` every 200 ms until stopped; `peakMb` is the highest value seen, in MiB. */
export function rssSampler(read: () => number): { peakMb: () => number; stop: () => void } {
  let peak = read();
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, read());
    } catch {
      // the process may have gone: keep the peak seen so far
    }
  }, 200);
  return { peakMb: () => Math.round(peak / 1048576), stop: () => clearInterval(timer) };
}

/**
 * Single-row inserts at a fixed rate (open-loop pacing over `writers` sessions, runPaced); per
 * row, the time from COMMIT returning to its event (key `{"id": n}`) being consumed from `topic`.
 */
export async function fixedRateLatency(opts: {
  readonly kafka: KafkaConnection;
  readonly dlqProducer: SyncProducer;
  readonly url: string;
  readonly table: string;
  readonly topic: string;
  readonly firstId: number;
  readonly workload: CaptureWorkload;
}): Promise<LatencyResult> {
  const { rate, seconds, writers } = opts.workload;
  const committedAt = new Map<number, number>();
  const consumedAt = new Map<number, number>();
  const consumer = opts.kafka.batchConsumer(opts.dlqProducer, {
    app: 'bench',
    groupId: `bench-${Date.now()}`,
    topics: [opts.topic],
    fromBeginning: false,
    handler: async (batch) => {
      const now = performance.now();
      for (const m of batch) {
        const id = (JSON.parse(m.key!.toString()) as { id: number }).id;
        if (id >= opts.firstId && !consumedAt.has(id)) consumedAt.set(id, now);
      }
    },
  });
  await consumer.start();
  const sessions: Client[] = [];
  try {
    for (let w = 0; w < writers; w++) {
      const c = new Client({ connectionString: opts.url });
      await c.connect();
      sessions.push(c);
    }
    // Group join and first fetch: rows committed before the consumer is positioned would be missed.
    await sleep(3000);
    const paced = await runPaced({
      rate,
      seconds,
      concurrency: writers,
      operation: async (i, w) => {
        const id = opts.firstId + i;
        await sessions[w]!.query(`INSERT INTO ${opts.table} (id, name, amount) VALUES ($1, 'live', 1)`, [id]);
        committedAt.set(id, performance.now());
      },
    });
    await waitUntil('all latency samples', () => consumedAt.size >= paced.operations, 30_000, 100).catch(() => undefined);
    const latencies = [...committedAt].flatMap(([id, at]) => {
      const seen = consumedAt.get(id);
      return seen === undefined ? [] : [Math.max(0, seen - at)];
    });
    const s = latencySummary(latencies, paced.operations);
    return { achievedRate: paced.achievedRate, samples: s.samples, p50: s.p50, p99: s.p99, max: s.max };
  } finally {
    await consumer.stop();
    await Promise.all(sessions.map((c) => c.end().catch(() => undefined)));
  }
}

/**
 * Write capacity for small transactions: `writers` sessions insert single rows as fast as they
 * can for `seconds`; returns commits/s. This is where a per-row NOTIFY shows (commits queue).
 */
export async function singleRowCommitRate(url: string, table: string, firstId: number, seconds: number, writers: number): Promise<number> {
  const sessions: Client[] = [];
  try {
    for (let w = 0; w < writers; w++) {
      const c = new Client({ connectionString: url });
      await c.connect();
      sessions.push(c);
    }
    let next = firstId;
    let commits = 0;
    const start = performance.now();
    const end = start + seconds * 1000;
    await Promise.all(
      sessions.map(async (c) => {
        while (performance.now() < end) {
          await c.query(`INSERT INTO ${table} (id, name, amount) VALUES ($1, 'commit', 1)`, [next++]);
          commits++;
        }
      }),
    );
    return ratePerSecond(commits, performance.now() - start);
  } finally {
    await Promise.all(sessions.map((c) => c.end().catch(() => undefined)));
  }
}

/** Rounds and seconds per table of the commit capacity runs (commitCapacity). */
const COMMIT_RATE_ROUNDS = 2;
const COMMIT_RATE_SECONDS = 3;
/** The broker-default record limit legacy-import runs with unless KAFKA_MAX_MESSAGE_BYTES says otherwise. */
const BENCH_LIMITS = { maxMessageBytes: ENV_DEFAULTS.kafkaMaxMessageBytes };

/**
 * Single-row commit capacity of each table, measured in alternation (round 1: a, b, c; round 2:
 * a, b, c) and averaged, so a change in the shared machine's load does not land on one table only.
 */
export async function commitCapacity(url: string, tables: readonly string[], writers: number): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  for (let round = 0; round < COMMIT_RATE_ROUNDS; round++) {
    for (const t of tables) sums[t] = (sums[t] ?? 0) + (await singleRowCommitRate(url, t, 100_000_000 + round * 10_000_000, COMMIT_RATE_SECONDS, writers));
  }
  return Object.fromEntries(Object.entries(sums).map(([t, sum]) => [t, Math.round(sum / COMMIT_RATE_ROUNDS)]));
}

/** One side of the comparison; "uncaptured" is the same insert into a table nothing captures. */
export interface CaptureResult {
  readonly rows: number;
  readonly insertUncapturedRowsPerS: number;
  readonly insertCapturedRowsPerS: number;
  readonly writeOverheadPct: number;
  readonly captureRowsPerS: number;
  readonly latency: LatencyResult;
  /** Single-row commits/s from `writers` unpaced sessions, with capture running. */
  readonly commitsUncapturedPerS: number;
  readonly commitsCapturedPerS: number;
  /** Peak RSS of the capturing process. */
  readonly peakRssMb: number;
}

/** Ours, also with a table whose trigger does not NOTIFY (`capture: { notify: false }`, polled). */
export interface LegacyImportCaptureResult extends CaptureResult {
  readonly notifyOff: {
    readonly pollIntervalMs: number;
    readonly insertCapturedRowsPerS: number;
    readonly writeOverheadPct: number;
    readonly latency: LatencyResult;
    readonly commitsCapturedPerS: number;
  };
}

export function overheadPct(uncapturedMs: number, capturedMs: number): number {
  return Math.round(((capturedMs - uncapturedMs) / uncapturedMs) * 100);
}

export function captureResult(
  rows: number,
  ms: { readonly uncapturedInsert: number; readonly capturedInsert: number; readonly capture: number },
  latency: LatencyResult,
  commits: { readonly uncaptured: number; readonly captured: number },
  peakRssMb: number,
): CaptureResult {
  return {
    rows,
    insertUncapturedRowsPerS: ratePerSecond(rows, ms.uncapturedInsert),
    insertCapturedRowsPerS: ratePerSecond(rows, ms.capturedInsert),
    writeOverheadPct: overheadPct(ms.uncapturedInsert, ms.capturedInsert),
    captureRowsPerS: ratePerSecond(rows, ms.capture),
    latency,
    commitsUncapturedPerS: commits.uncaptured,
    commitsCapturedPerS: commits.captured,
    peakRssMb,
  };
}

/** Poll interval of the table captured without NOTIFY (its latency rests on polling alone). */
export const NOTIFY_OFF_POLL_INTERVAL_MS = 20;

/**
 * Our capture on `baseUrl`'s cluster, two captured tables of the same shape: `rows` with the
 * default trigger (NOTIFY wake-up, poll interval 200 ms) and `quiet` with `notify: false` (poll
 * interval NOTIFY_OFF_POLL_INTERVAL_MS). Trigger overhead (the same insert into `plain`, `rows`,
 * `quiet`), capture throughput of the `rows` backlog through the importer's capture loop
 * (batchSize 5,000, acks=all), the fixed-rate latency probe on each table (both capture loops
 * running), then the single-row commit capacity of each table.
 */
export async function runLegacyImportCapture(baseUrl: string, brokers: string[], workload: CaptureWorkload): Promise<LegacyImportCaptureResult> {
  const N = workload.rows;
  return withBenchDatabase(baseUrl, 'bench_import', async (url) => {
    const system = `bench${Date.now().toString(36)}`;
    const pipeline = parsePipeline(
      `version: 1
systems:
  ${system}:
    dialect: postgres
    connection: { url: { env: BENCH_URL } }
    tables:
      - name: rows
        key: [id]
        capture: { mode: trigger, batchSize: 5000, pollIntervalMs: 200, retentionMs: 0, notify: true }
      - name: quiet
        key: [id]
        capture: { mode: trigger, batchSize: 5000, pollIntervalMs: ${NOTIFY_OFF_POLL_INTERVAL_MS}, retentionMs: 0, notify: false }
`,
      'bench',
    );
    const sys = pipeline.systems.get(system)!;
    const [table, quietTable] = sys.tables as [(typeof sys.tables)[0], (typeof sys.tables)[0]];
    const db = createLegacyDb({ system, dialect: 'postgres', url: { reveal: () => url }, poolSize: 4 }, () => undefined) as PostgresLegacyDb;
    const kafka = new KafkaConnection({ brokers, clientId: 'bench-import' }, silentLog);
    const producer = kafka.producer();
    const admin = kafka.admin();
    const runners: TableCaptureRunner[] = [];
    const rss = rssSampler(() => process.memoryUsage().rss);
    try {
      await exec(url, `CREATE TABLE plain ${BENCH_TABLE_DDL}; CREATE TABLE rows ${BENCH_TABLE_DDL}; CREATE TABLE quiet ${BENCH_TABLE_DDL}`);
      await applyDdl(db, changelogDdl(sys));
      await producer.connect();
      const topic = Topics.legacy({ system, schema: 'public', table: 'rows' });
      const quietTopic = Topics.legacy({ system, schema: 'public', table: 'quiet' });
      await admin.ensureTopics([{ topic }, { topic: quietTopic }, { topic: Topics.offsets, compacted: true }]);

      // Trigger overhead; the triggered insert into `rows` is also the backlog for the throughput run.
      const plainMs = await insertRows(url, 'plain', N);
      const source = createCaptureSource(db, sys, table);
      const startPos = await source.startPosition();
      const trigMs = await insertRows(url, 'rows', N);
      const quietMs = await insertRows(url, 'quiet', N);

      const metrics = captureMetrics(new MetricsRegistry('bench'));
      const ports = {
        publish: (records: Parameters<typeof producer.send>[0]) => producer.send(records),
        saveState: (entity: string, state: Parameters<typeof encodeState>[0]) => producer.send([{ topic: Topics.offsets, key: entity, value: encodeState(state) }]),
      };
      const log = createLogger('bench', 'warn');
      const runner = new TableCaptureRunner(table, source, ports, metrics, log, { phase: 'streaming', position: startPos }, BENCH_LIMITS);
      runners.push(runner);
      const t0 = performance.now();
      runner.start();
      const captured = async (): Promise<number> => (await metrics.rows.get()).values.reduce((sum, v) => sum + v.value, 0);
      await waitUntil(`${N} rows captured`, async () => (await captured()) >= N, 600_000);
      const captureMs = performance.now() - t0;

      db.listen(NOTIFY_CHANNEL, () => runner.wake());
      // The notify-off table streams from now on: its backlog only served the write-cost figure.
      const quietSource = createCaptureSource(db, sys, quietTable);
      const quietRunner = new TableCaptureRunner(quietTable, quietSource, ports, metrics, log, { phase: 'streaming', position: await quietSource.startPosition() }, BENCH_LIMITS);
      runners.push(quietRunner);
      quietRunner.start();

      const latency = await fixedRateLatency({ kafka, dlqProducer: producer, url, table: 'rows', topic, firstId: N + 1, workload });
      const quietLatency = await fixedRateLatency({ kafka, dlqProducer: producer, url, table: 'quiet', topic: quietTopic, firstId: N + 1, workload });

      const capacity = await commitCapacity(url, ['plain', 'rows', 'quiet'], workload.writers);
      const commits = { uncaptured: capacity['plain']!, captured: capacity['rows']! };
      // Peak RSS of this process: the capture loops plus the benchmark's own clients (an upper bound).
      return {
        ...captureResult(N, { uncapturedInsert: plainMs, capturedInsert: trigMs, capture: captureMs }, latency, commits, rss.peakMb()),
        notifyOff: {
          pollIntervalMs: NOTIFY_OFF_POLL_INTERVAL_MS,
          insertCapturedRowsPerS: ratePerSecond(N, quietMs),
          writeOverheadPct: overheadPct(plainMs, quietMs),
          latency: quietLatency,
          commitsCapturedPerS: capacity['quiet']!,
        },
      };
    } finally {
      rss.stop();
      for (const r of runners) await r.stop().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      await db.close().catch(() => undefined);
    }
  });
}
