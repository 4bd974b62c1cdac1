/**
 * The capture workload shared by bench:legacy-import and the Debezium comparison
 * (compare.bench.ts): the same table, the same inserts, the same fixed-rate latency probe, so
 * both sides of the comparison are measured by the same code.
 */
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { parsePipeline } from '@sync/config';
import { Topics } from '@sync/contracts';
import { applyDdl, changelogDdl, createCaptureSource, createLegacyDb, NOTIFY_CHANNEL, PostgresLegacyDb } from '@sync/legacy-db';
import { KafkaConnection, silentLog, type SyncProducer } from '@sync/kafka';
import { createLogger, MetricsRegistry } from '@sync/observability';
import { captureMetrics } from '../../apps/legacy-import/src/capture.metrics';
import { TableCaptureRunner } from '../../apps/legacy-import/src/table-capture.runner';
import { encodeState } from '../../apps/legacy-import/src/capture-state';

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

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
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

/** Polls `done` every `everyMs` until it holds; throws after `timeoutMs` (loops here are bounded). */
export async function waitUntil(what: string, done: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`bench: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function vmRssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
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
 * Single-row inserts at a fixed rate from several writer sessions; per row, the time from COMMIT
 * returning to its event (key `{"id": n}`) being consumed from `topic`.
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
  const latencies: number[] = [];
  const consumer = opts.kafka.batchConsumer(opts.dlqProducer, {
    app: 'bench',
    groupId: `bench-${Date.now()}`,
    topics: [opts.topic],
    fromBeginning: false,
    handler: async (batch) => {
      const now = performance.now();
      for (const m of batch) {
        const id = (JSON.parse(m.key!.toString()) as { id: number }).id;
        const at = committedAt.get(id);
        if (at !== undefined) latencies.push(now - at);
      }
    },
  });
  await consumer.start();
  try {
    // Group join and first fetch: rows committed before the consumer is positioned would be missed.
    await new Promise((r) => setTimeout(r, 3000));
    const total = rate * seconds;
    const begin = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const writer = new Client({ connectionString: opts.url });
        await writer.connect();
        try {
          for (let i = w; i < total; i += writers) {
            const wait = begin + (i * 1000) / rate - performance.now();
            if (wait > 1) await new Promise((r) => setTimeout(r, wait));
            const id = opts.firstId + i;
            await writer.query(`INSERT INTO ${opts.table} (id, name, amount) VALUES ($1, 'live', 1)`, [id]);
            committedAt.set(id, performance.now());
          }
        } finally {
          await writer.end();
        }
      }),
    );
    const achievedRate = total / ((performance.now() - begin) / 1000);
    await waitUntil('all latency samples', () => latencies.length >= total, 30_000, 100).catch(() => undefined);
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      achievedRate: Math.round(achievedRate),
      samples: sorted.length,
      p50: Math.round(percentile(sorted, 50)),
      p99: Math.round(percentile(sorted, 99)),
      max: Math.round(sorted[sorted.length - 1] ?? NaN),
    };
  } finally {
    await consumer.stop();
  }
}

/** One side of the comparison; "uncaptured" is the same insert into a table nothing captures. */
export interface CaptureResult {
  readonly rows: number;
  readonly insertUncapturedRowsPerS: number;
  readonly insertCapturedRowsPerS: number;
  readonly writeOverheadPct: number;
  readonly captureRowsPerS: number;
  readonly latency: LatencyResult;
  /** Peak RSS of the capturing process. */
  readonly peakRssMb: number;
}

export function captureResult(
  rows: number,
  ms: { readonly uncapturedInsert: number; readonly capturedInsert: number; readonly capture: number },
  latency: LatencyResult,
  peakRssMb: number,
): CaptureResult {
  return {
    rows,
    insertUncapturedRowsPerS: ratePerSecond(rows, ms.uncapturedInsert),
    insertCapturedRowsPerS: ratePerSecond(rows, ms.capturedInsert),
    writeOverheadPct: Math.round(((ms.capturedInsert - ms.uncapturedInsert) / ms.uncapturedInsert) * 100),
    captureRowsPerS: ratePerSecond(rows, ms.capture),
    latency,
    peakRssMb,
  };
}

/**
 * Our capture on `baseUrl`'s cluster: trigger overhead (the same insert without and with the
 * changelog trigger), then capture throughput of that backlog through the importer's capture
 * loop (batchSize 5,000, acks=all), then the fixed-rate latency probe.
 */
export async function runLegacyImportCapture(baseUrl: string, brokers: string[], workload: CaptureWorkload): Promise<CaptureResult> {
  const N = workload.rows;
  return withBenchDatabase(baseUrl, 'bench_import', async (url) => {
    const system = `bench${Date.now().toString(36)}`;
    const pipeline = parsePipeline(
      `version: 1\nsystems:\n  ${system}:\n    dialect: postgres\n    connection: { url: { env: BENCH_URL } }\n    tables:\n      - name: rows\n        key: [id]\n        capture: { mode: trigger, batchSize: 5000, pollIntervalMs: 200, retentionMs: 0 }\n`,
      'bench',
    );
    const sys = pipeline.systems.get(system)!;
    const table = sys.tables[0]!;
    const db = createLegacyDb({ system, dialect: 'postgres', url: { reveal: () => url }, poolSize: 4 }, () => undefined) as PostgresLegacyDb;
    const kafka = new KafkaConnection({ brokers, clientId: 'bench-import' }, silentLog);
    const producer = kafka.producer();
    const admin = kafka.admin();
    try {
      await exec(url, `CREATE TABLE plain ${BENCH_TABLE_DDL}; CREATE TABLE rows ${BENCH_TABLE_DDL}`);
      await applyDdl(db, changelogDdl(sys));
      await producer.connect();
      const topic = Topics.legacy({ system, schema: 'public', table: 'rows' });
      await admin.ensureTopics([{ topic }, { topic: Topics.offsets, compacted: true }]);

      // Trigger overhead; the triggered insert is also the backlog for the throughput run.
      const plainMs = await insertRows(url, 'plain', N);
      const source = createCaptureSource(db, sys, table);
      const startPos = await source.startPosition();
      const trigMs = await insertRows(url, 'rows', N);

      const rss = rssSampler(() => process.memoryUsage().rss);
      try {
        const metrics = captureMetrics(new MetricsRegistry('bench'));
        const ports = {
          publish: (records: Parameters<typeof producer.send>[0]) => producer.send(records),
          saveState: (entity: string, state: Parameters<typeof encodeState>[0]) => producer.send([{ topic: Topics.offsets, key: entity, value: encodeState(state) }]),
        };
        const runner = new TableCaptureRunner(table, source, ports, metrics, createLogger('bench', 'warn'), { phase: 'streaming', position: startPos });
        const t0 = performance.now();
        runner.start();
        try {
          const captured = async (): Promise<number> => (await metrics.rows.get()).values.reduce((sum, v) => sum + v.value, 0);
          await waitUntil(`${N} rows captured`, async () => (await captured()) >= N, 600_000);
          const captureMs = performance.now() - t0;

          db.listen(NOTIFY_CHANNEL, () => runner.wake());
          const latency = await fixedRateLatency({ kafka, dlqProducer: producer, url, table: 'rows', topic, firstId: N + 1, workload });
          // Peak RSS of this process: the capture loop plus the benchmark's own clients (an upper bound).
          return captureResult(N, { uncapturedInsert: plainMs, capturedInsert: trigMs, capture: captureMs }, latency, rss.peakMb());
        } finally {
          await runner.stop();
        }
      } finally {
        rss.stop();
      }
    } finally {
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      await db.close().catch(() => undefined);
    }
  });
}
