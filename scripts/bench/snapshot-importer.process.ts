/**
 * One initial snapshot by legacy-import's capture loop, in a process of its own (forked by
 * snapshot.bench.ts), so that its CPU time, peak RSS and `--cpu-prof` profile hold the snapshot
 * and nothing else. Input: one JSON argument (SnapshotJob). Output: one IPC message (SnapshotRun).
 * The snapshot runs from an empty saved state, as for a newly configured table, with the app's
 * producer (acks=all, idempotent), and is timed from the runner's start until the state that ends
 * it (phase streaming) is saved, which happens only after every snapshot record was acknowledged.
 */
import { parsePipeline, ENV_DEFAULTS } from '@sync/config';
import { Topics } from '@sync/contracts';
import { applyDdl, changelogDdl, createCaptureSource, createLegacyDb } from '@sync/legacy-db';
import { KafkaConnection, silentLog, type OutboundRecord } from '@sync/kafka';
import { createLogger, MetricsRegistry } from '@sync/observability';
import { captureMetrics } from '../../apps/legacy-import/src/capture.metrics';
import { TableCaptureRunner } from '../../apps/legacy-import/src/table-capture.runner';
import { encodeState, type CaptureState } from '../../apps/legacy-import/src/capture-state';
import { waitUntil } from '../lib/wait';

export interface SnapshotJob {
  readonly url: string;
  readonly brokers: string[];
  readonly system: string;
  readonly table: string;
  readonly rows: number;
  /** Extra `capture:` settings in YAML flow syntax (`snapshotChunkSize: 20000`), '' for the defaults. */
  readonly capture: string;
}

export interface SnapshotRun {
  readonly rows: number;
  readonly records: number;
  readonly ms: number;
  readonly cpuUserS: number;
  readonly cpuSystemS: number;
  readonly peakRssMb: number;
  readonly topic: string;
}

async function main(job: SnapshotJob): Promise<SnapshotRun> {
  const capture = ['mode: trigger', 'retentionMs: 0', job.capture].filter((s) => s !== '').join(', ');
  const pipeline = parsePipeline(
    `version: 1
systems:
  ${job.system}:
    dialect: postgres
    connection: { url: { env: BENCH_URL } }
    tables:
      - name: ${job.table}
        key: [id]
        capture: { ${capture} }
`,
    'bench',
  );
  const sys = pipeline.systems.get(job.system)!;
  const table = sys.tables[0]!;
  const db = createLegacyDb({ system: job.system, dialect: 'postgres', url: { reveal: () => job.url }, poolSize: 4 }, () => undefined);
  // SNAPSHOT_KAFKA_CLIENT=confluent: the same run on Confluent's client (npm run kafka:confluent first).
  const client = process.env['SNAPSHOT_KAFKA_CLIENT'] === 'confluent' ? 'confluent' : 'kafkajs';
  const kafka = new KafkaConnection({ brokers: job.brokers, clientId: 'bench-snapshot', client }, silentLog);
  if (kafka.client !== client) throw new Error(`SNAPSHOT_KAFKA_CLIENT=${client}: the client is not installed (npm run kafka:confluent)`);
  const producer = kafka.producer();
  const admin = kafka.admin();
  const topic = Topics.legacy({ system: job.system, schema: 'public', table: job.table });
  let records = 0;
  let finishedAt: number | undefined;
  const ports = {
    publish: async (batch: readonly OutboundRecord[]): Promise<void> => {
      await producer.send(batch);
      records += batch.length;
    },
    saveState: async (entity: string, state: CaptureState): Promise<void> => {
      await producer.send([{ topic: Topics.offsets, key: entity, value: encodeState(state) }]);
      if (state.phase === 'streaming') finishedAt ??= performance.now();
    },
  };
  try {
    // The changelog the stream goes on with after the snapshot (its start position is read first).
    await applyDdl(db, changelogDdl(sys));
    await admin.ensureTopics([{ topic }, { topic: Topics.offsets, compacted: true }]);
    await producer.connect();
    const source = createCaptureSource(db, sys, table);
    const runner = new TableCaptureRunner(table, source, ports, captureMetrics(new MetricsRegistry('bench')), createLogger('bench', 'warn'), undefined, {
      maxMessageBytes: ENV_DEFAULTS.kafkaMaxMessageBytes,
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    runner.start();
    await waitUntil('snapshot finished', () => finishedAt !== undefined, 1_800_000, 5);
    const cpu = process.cpuUsage(cpu0);
    await runner.stop();
    return {
      rows: job.rows,
      records,
      ms: finishedAt! - t0,
      cpuUserS: cpu.user / 1e6,
      cpuSystemS: cpu.system / 1e6,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      topic,
    };
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await db.close().catch(() => undefined);
  }
}

const arg = process.argv[2];
if (arg === undefined || process.send === undefined) {
  console.error('forked by snapshot.bench.ts with one JSON argument');
  process.exitCode = 2;
} else {
  main(JSON.parse(arg) as SnapshotJob).then(
    (run) => process.send!({ ok: true, run }, () => process.exit(0)),
    (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, () => process.exit(1)),
  );
}
