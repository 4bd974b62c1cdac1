/**
 * Capture benchmark (npm run bench:legacy-import), on this machine with broker and database local:
 *   1. throughput: N rows (default 200,000) inserted into a captured table in 1,000-row
 *      transactions, then read from the trigger changelog and published to Kafka with acks=all
 *      by the importer's capture loop (batchSize 5,000), timed until the last batch is acknowledged;
 *   2. latency at a fixed rate: 1,000 single-row transactions per second for 20 s; per row, the
 *      time from COMMIT returning to the event being consumed from Kafka; p50 / p99 / max;
 *   3. trigger overhead: the same N-row insert into a table without and with the capture trigger.
 * KAFKA_BROKERS (default 127.0.0.1:19092) and TEST_DATABASE_URL point at the services. Prints a
 * table and writes bench-results/legacy-import.json. Nothing is asserted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { loadEnv, parsePipeline } from '@sync/config';
import { Topics } from '@sync/contracts';
import { applyDdl, changelogDdl, createCaptureSource, createLegacyDb, NOTIFY_CHANNEL, PostgresLegacyDb } from '@sync/legacy-db';
import { KafkaConnection, silentLog } from '@sync/kafka';
import { createLogger, MetricsRegistry } from '@sync/observability';
import { captureMetrics } from '../../apps/legacy-import/src/capture.metrics';
import { TableCaptureRunner } from '../../apps/legacy-import/src/table-capture.runner';
import { encodeState } from '../../apps/legacy-import/src/capture-state';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const N = Number(process.argv[2] ?? 200_000);
const env = loadEnv();
const brokers = [...(env.kafka.brokers ?? ['127.0.0.1:19092'])];
const baseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function exec(url: string, sql: string, params: unknown[] = []): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql, params);
  } finally {
    await c.end();
  }
}

async function insertRows(url: string, table: string, n: number): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  const start = performance.now();
  for (let i = 0; i < n; i += 1000) {
    await c.query(`INSERT INTO ${table} (id, name, amount) SELECT g, 'name ' || g, g * 1.5 FROM generate_series($1::int, $2::int) g`, [i + 1, Math.min(n, i + 1000)]);
  }
  const ms = performance.now() - start;
  await c.end();
  return ms;
}

async function main(): Promise<void> {
  const dbName = `bench_import_${Date.now().toString(36)}`;
  await exec(baseUrl, `CREATE DATABASE ${dbName}`);
  const url = baseUrl.replace(/\/postgres$/, `/${dbName}`);
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
  const results: Record<string, number | string> = { rows: N };
  try {
    await exec(url, 'CREATE TABLE plain (id int PRIMARY KEY, name text, amount numeric(12,2)); CREATE TABLE rows (id int PRIMARY KEY, name text, amount numeric(12,2))');
    await applyDdl(db, changelogDdl(sys));
    await producer.connect();
    const topic = Topics.legacy({ system, schema: 'public', table: 'rows' });
    await admin.ensureTopics([{ topic }, { topic: Topics.offsets, compacted: true }]);

    // 3. trigger overhead (and the preload for 1.)
    const plainMs = await insertRows(url, 'plain', N);
    const source = createCaptureSource(db, sys, table);
    const startPos = await source.startPosition();
    const trigMs = await insertRows(url, 'rows', N);
    results['insert_without_trigger_rows_per_s'] = Math.round(N / (plainMs / 1000));
    results['insert_with_trigger_rows_per_s'] = Math.round(N / (trigMs / 1000));
    results['trigger_overhead_pct'] = Math.round(((trigMs - plainMs) / plainMs) * 100);

    // 1. throughput
    const registry = new MetricsRegistry('bench');
    const metrics = captureMetrics(registry);
    const log = createLogger('bench', 'warn');
    const ports = {
      publish: (records: Parameters<typeof producer.send>[0]) => producer.send(records),
      saveState: (entity: string, state: Parameters<typeof encodeState>[0]) => producer.send([{ topic: Topics.offsets, key: entity, value: encodeState(state) }]),
    };
    const runner = new TableCaptureRunner(table, source, ports, metrics, log, { phase: 'streaming', position: startPos });
    const t0 = performance.now();
    runner.start();
    for (;;) {
      const captured = (await metrics.rows.get()).values.reduce((sum, v) => sum + v.value, 0);
      if (captured >= N) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const captureMs = performance.now() - t0;
    results['capture_rows_per_s'] = Math.round(N / (captureMs / 1000));

    // 2. latency at 1,000 rows/s
    db.listen(NOTIFY_CHANNEL, () => runner.wake());
    const committedAt = new Map<number, number>();
    const latencies: number[] = [];
    const consumer = kafka.batchConsumer(producer, {
      app: 'bench',
      groupId: `bench-${Date.now()}`,
      topics: [topic],
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
    await new Promise((r) => setTimeout(r, 3000));
    // Several writer sessions: one session alone cannot commit 1,000 transactions a second here.
    const rate = 1000;
    const seconds = 20;
    const writers = 8;
    const begin = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const writer = new Client({ connectionString: url });
        await writer.connect();
        for (let i = w; i < rate * seconds; i += writers) {
          const wait = begin + (i * 1000) / rate - performance.now();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
          const id = N + 1 + i;
          await writer.query(`INSERT INTO rows (id, name, amount) VALUES ($1, 'live', 1)`, [id]);
          committedAt.set(id, performance.now());
        }
        await writer.end();
      }),
    );
    const achieved = (rate * seconds) / ((performance.now() - begin) / 1000);
    const deadline = Date.now() + 30_000;
    while (latencies.length < rate * seconds && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await consumer.stop();
    await runner.stop();
    const sorted = [...latencies].sort((a, b) => a - b);
    results['latency_rate_rows_per_s'] = Math.round(achieved);
    results['latency_samples'] = sorted.length;
    results['latency_p50_ms'] = Math.round(percentile(sorted, 50));
    results['latency_p99_ms'] = Math.round(percentile(sorted, 99));
    results['latency_max_ms'] = Math.round(sorted[sorted.length - 1] ?? NaN);
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await db.close().catch(() => undefined);
    await exec(baseUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
  }
  console.log('\nlegacy-import capture benchmark (PostgreSQL trigger changelog -> Kafka, acks=all)');
  for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(36)} ${typeof v === 'number' ? v.toLocaleString('en-US') : v}`);
  const out = path.join(repoRoot, 'bench-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'legacy-import.json'), JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
