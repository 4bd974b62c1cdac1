/**
 * Quick measurement of capture.mode logical (issue 15), on the wal_level=logical cluster of
 * scripts/pg-logical.sh (PG_LOGICAL_URL, default 127.0.0.1:55452) and the broker of KAFKA_BROKERS:
 *   1. write cost: N rows in 1,000-row transactions into a table outside the publication, then
 *      into the published one (the backlog of step 2);
 *   2. capture throughput: that backlog through the importer's capture loop (batchSize 5,000,
 *      acks=all), timed until the last row is published, with this process's CPU seconds;
 *   3. latency p50/p99 of single-row commits at a fixed rate (default 500/s for 15 s, 4 writers).
 * node dist/scripts/bench/logical-capture.bench.js [rows=100000] [rate=500] [seconds=15] [mode=logical]
 * `mode=trigger` runs the same steps with the trigger changelog (on the same cluster), for a
 * comparison under the same load.
 */
import { parsePipeline, ENV_DEFAULTS } from '@sync/config';
import { Topics } from '@sync/contracts';
import { applyDdl, changelogDdl, createCaptureSource, createLegacyDb, prepareCapture } from '@sync/legacy-db';
import { KafkaConnection, silentLog } from '@sync/kafka';
import { createLogger, MetricsRegistry } from '@sync/observability';
import { captureMetrics } from '../../apps/legacy-import/src/capture.metrics';
import { encodeState } from '../../apps/legacy-import/src/capture-state';
import { TableCaptureRunner } from '../../apps/legacy-import/src/table-capture.runner';
import { BENCH_TABLE_DDL, exec, fixedRateLatency, insertRows, overheadPct, ratePerSecond, withBenchDatabase } from './capture-bench.support';
import { waitUntil } from '../lib/wait';
import { loadavg } from 'node:os';

async function main(): Promise<void> {
  const N = Number(process.argv[2] ?? 100_000);
  const rate = Number(process.argv[3] ?? 500);
  const seconds = Number(process.argv[4] ?? 15);
  const mode = process.argv[5] ?? 'logical';
  if (mode !== 'logical' && mode !== 'trigger') throw new Error(`mode ${mode}: use logical or trigger`);
  const baseUrl = process.env['PG_LOGICAL_URL'] ?? 'postgres://postgres@127.0.0.1:55452/postgres';
  const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
  const result = await withBenchDatabase(baseUrl, 'bench_logical', async (url) => {
    const system = `benchlog${Date.now().toString(36)}`;
    const sys = parsePipeline(
      `version: 1
systems:
  ${system}:
    dialect: postgres
    connection: { url: { env: BENCH_URL } }
    tables:
      - name: rows
        key: [id]
        capture: { mode: ${mode}, batchSize: 5000, pollIntervalMs: 200${mode === 'trigger' ? ', retentionMs: 0' : ''} }
`,
      'bench',
    ).systems.get(system)!;
    const table = sys.tables[0]!;
    const db = createLegacyDb({ system, dialect: 'postgres', url: { reveal: () => url }, poolSize: 4 }, () => undefined);
    const kafka = new KafkaConnection({ brokers, clientId: 'bench-logical' }, silentLog);
    const producer = kafka.producer();
    const admin = kafka.admin();
    let runner: TableCaptureRunner | undefined;
    try {
      await exec(url, `CREATE TABLE plain ${BENCH_TABLE_DDL}; CREATE TABLE rows ${BENCH_TABLE_DDL}`);
      await applyDdl(db, changelogDdl(sys));
      await prepareCapture(db, sys);
      await producer.connect();
      const topic = Topics.legacy({ system, schema: 'public', table: 'rows' });
      await admin.ensureTopics([{ topic }, { topic: Topics.offsets, compacted: true }]);

      const plainMs = await insertRows(url, 'plain', N);
      const source = createCaptureSource(db, sys, table);
      const startPos = await source.startPosition();
      const publishedMs = await insertRows(url, 'rows', N);

      const metrics = captureMetrics(new MetricsRegistry('bench'));
      const ports = {
        publish: (records: Parameters<typeof producer.send>[0]) => producer.send(records),
        saveState: (entity: string, state: Parameters<typeof encodeState>[0]) => producer.send([{ topic: Topics.offsets, key: entity, value: encodeState(state) }]),
      };
      runner = new TableCaptureRunner(table, source, ports, metrics, createLogger('bench', 'warn'), { phase: 'streaming', position: startPos }, {
        maxMessageBytes: ENV_DEFAULTS.kafkaMaxMessageBytes,
      });
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      runner.start();
      const captured = async (): Promise<number> => (await metrics.rows.get()).values.reduce((sum, v) => sum + v.value, 0);
      await waitUntil(`${N} rows captured`, async () => (await captured()) >= N, 600_000, 50);
      const captureMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      // Time the loop waited for reads (the rest is publishing to Kafka and saving positions).
      const readSeconds = (await metrics.pollSeconds.get()).values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
      const latency = await fixedRateLatency({ kafka, dlqProducer: producer, url, table: 'rows', topic, firstId: N + 1, workload: { rows: N, rate, seconds, writers: 4 } });
      return {
        mode,
        rows: N,
        insert_unpublished_rows_per_s: ratePerSecond(N, plainMs),
        insert_published_rows_per_s: ratePerSecond(N, publishedMs),
        write_overhead_pct: overheadPct(plainMs, publishedMs),
        capture_rows_per_s: ratePerSecond(N, captureMs),
        capture_seconds: Math.round(captureMs) / 1000,
        capture_cpu_seconds: Math.round((cpu.user + cpu.system) / 1000) / 1000,
        capture_read_wait_seconds: Math.round(readSeconds * 1000) / 1000,
        latency,
        load_average: loadavg().map((l) => Math.round(l * 10) / 10),
      };
    } finally {
      await runner?.stop().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      await db.close().catch(() => undefined);
      // The database cannot be dropped while it has a slot.
      await exec(url, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database()`).catch(() => undefined);
    }
  });
  console.log(JSON.stringify(result, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
