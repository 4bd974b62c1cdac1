import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { Topics } from '@sync/contracts';
import { KafkaConnection, silentLog } from '@sync/kafka';
import { repoRoot, testBrokers } from '../../support/test-env';
import { ImportHarness } from './import-harness';

const run = promisify(execFile);

function gauge(metrics: string, name: string, entity: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{entity="${entity}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

describe('legacy-import: snapshot progress in metrics and in sync-ctl status', () => {
  let h: ImportHarness;
  after(async () => {
    await h?.close();
  });

  it('counts the snapshot rows against the table rows, and sync-ctl status shows a running snapshot\'s progress', async () => {
    h = await ImportHarness.create(
      `CREATE TABLE users (id int PRIMARY KEY, name text);
       INSERT INTO users SELECT g, 'n' || g FROM generate_series(1, 1050) g;`,
      `      - name: users\n        key: [id]\n        capture: { mode: trigger, batchSize: 100, pollIntervalMs: 100 }\n`,
    );
    const entity = `${h.system}.public.users`;
    const app = await h.startImporter();
    const metrics = await fetch(app.url('/metrics')).then((r) => r.text());
    assert.equal(gauge(metrics, 'sync_snapshot_rows_done', entity), 1050);
    assert.equal(gauge(metrics, 'sync_snapshot_table_rows', entity), 1050);
    assert.ok(gauge(metrics, 'sync_snapshot_rows_per_second', entity) > 0);
    assert.equal(gauge(metrics, 'sync_snapshot_eta_seconds', entity), 0, 'finished');
    await app.stop();

    const status = async (...args: string[]): Promise<string> => {
      const { stdout } = await run(process.execPath, [path.join(repoRoot, 'dist', 'apps', 'sync-ctl', 'src', 'main.js'), 'status', ...args], {
        env: { PATH: process.env['PATH'] ?? '', PIPELINE_FILE: h.pipelineFile, KAFKA_BROKERS: testBrokers().join(','), LEGACY_DATABASE_URL: h.db.url },
        timeout: 60_000,
      }).catch((err: { code: number; stdout: string; stderr: string }) => (err.code === 1 ? err : Promise.reject(new Error(`exit ${err.code}: ${err.stderr}`))));
      return stdout;
    };
    const streaming = JSON.parse(await status('--json')) as { entities: Array<{ entity: string; capture: string; snapshot: unknown }> };
    assert.deepEqual(streaming.entities.find((e) => e.entity === entity), { ...streaming.entities.find((e) => e.entity === entity), capture: 'streaming', snapshot: null });

    // The state legacy-import saves in sync.offsets after each chunk of a running snapshot (the importer is stopped, so it stays).
    const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'it-snapshot-progress' }, silentLog);
    const producer = connection.producer();
    await producer.connect();
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    await producer.send([{ topic: Topics.offsets, key: entity, value: JSON.stringify({ phase: 'snapshot', snapshotId: 's1', afterKey: { id: 300 }, streamFrom: '0', progress: { done: 300, total: 1200, startedAt } }) }]);
    await producer.disconnect();
    const running = (JSON.parse(await status('--json')) as { entities: Array<{ entity: string; capture: string; snapshot: { done: number; total: number; rowsPerSecond: number; etaSeconds: number } }> }).entities.find((e) => e.entity === entity)!;
    assert.equal(running.capture, 'snapshot');
    assert.equal(running.snapshot.done, 300);
    assert.equal(running.snapshot.total, 1200);
    // 300 rows in the 60 s (plus however long status took to start) since the snapshot began; 900 to go at that rate.
    const { rowsPerSecond, etaSeconds } = running.snapshot;
    assert.ok(rowsPerSecond > 0.5 && rowsPerSecond <= 5, `${rowsPerSecond} rows/s`);
    assert.ok(Math.abs(etaSeconds - 900 / rowsPerSecond) <= 0.1 * etaSeconds, `ETA ${etaSeconds} s at ${rowsPerSecond} rows/s`);
    assert.match(await status(), /snapshot 300\/1,200 rows \(25\.0%\), [\d,.]+ rows\/s, [\dhms]+, ETA [\dhms]+/);
  });
});
