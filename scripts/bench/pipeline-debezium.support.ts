import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KafkaConnection, silentLog } from '@sync/kafka';
import { exec, withBenchDatabase } from './capture-bench.support';
import { debeziumScript, snapshotDebezium, type DebeziumSnapshotRun } from './debezium-capture.support';
import { BENCH_LOAD_SQL, BENCH_TABLE, BENCH_TABLE_SQL } from './pipeline-bench.support';
import { repoRoot } from '../lib/script-main';

// Debezium runs against the throwaway wal_level=logical cluster and Kafka Connect of scripts/debezium.sh.
const logicalBase = `postgres://postgres@127.0.0.1:${process.env['PG_LOGICAL_PORT'] ?? '55432'}/postgres`;
const connectUrl = `http://127.0.0.1:${process.env['CONNECT_PORT'] ?? '18083'}`;
const runDir = process.env['SYNC_RUN_DIR'] ?? path.join(repoRoot, '.run');


/**
 * Debezium's initial snapshot of the bench table with the same rows (same DDL, same generated
 * load, on the logical cluster: the shared one runs wal_level=replica), after our run, so the two
 * never share the CPU. Starts scripts/debezium.sh when it is not running and stops it again.
 */
export async function debeziumSnapshotOfBenchTable(rows: number, brokers: string[]): Promise<DebeziumSnapshotRun> {
  const wasRunning = debeziumScript('status');
  if (!wasRunning && !debeziumScript('up')) throw new Error('bench:pipeline --debezium: scripts/debezium.sh up failed (see above)');
  try {
    const connectPid = Number(readFileSync(path.join(runDir, 'debezium', 'connect.pid'), 'utf8').trim());
    return await withBenchDatabase(logicalBase, 'bench_pipe_dbz', async (url) => {
      await exec(url, BENCH_TABLE_SQL);
      await exec(url, BENCH_LOAD_SQL, [rows]);
      await exec(url, `VACUUM ANALYZE ${BENCH_TABLE}`);
      const run = await snapshotDebezium({ url, brokers, connectUrl, connectPid, table: BENCH_TABLE, rows });
      const admin = new KafkaConnection({ brokers, clientId: 'bench-pipeline-debezium' }, silentLog).admin();
      try {
        const parts = await admin.partitionOffsets(run.topic);
        await admin.deleteRecordsBefore(run.topic, parts.map((p) => ({ partition: p.partition, offset: p.high })));
      } finally {
        await admin.disconnect();
      }
      return run;
    });
  } finally {
    if (!wasRunning) debeziumScript('down');
  }
}
