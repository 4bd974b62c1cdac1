import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ImportHarness } from '../integration/legacy-import/import-harness';
import { TopicCollector } from '../support/topic-collector';
import { waitFor } from '../support/wait-for';

describe('graceful shutdown of legacy-import during a busy stream', () => {
  let h: ImportHarness;
  let events: TopicCollector;
  after(async () => {
    await events?.stop();
    await h?.close();
  });

  it('SIGTERM finishes within the timeout and loses nothing; the restarted importer repeats nothing', async () => {
    h = await ImportHarness.create(
      'CREATE TABLE users (id int PRIMARY KEY, name text)',
      `      - name: users\n        key: [id]\n        capture: { mode: trigger, batchSize: 200, pollIntervalMs: 50 }\n`,
    );
    events = await new TopicCollector().start([h.topic('users')]);
    const importer = await h.startImporter({ SHUTDOWN_TIMEOUT_MS: '10000' });
    await h.db.exec(`INSERT INTO users SELECT g, 'x' FROM generate_series(1, 20000) g`);
    await waitFor('the stream is busy', () => events.on(h.topic('users')).length > 1000, 30_000, 20);
    const started = Date.now();
    const code = await importer.stop('SIGTERM', 15_000);
    const tookMs = Date.now() - started;
    assert.equal(code, 0, importer.logs().slice(-2000));
    assert.ok(tookMs < 10_000, `stopped within the shutdown timeout (${tookMs} ms)`);
    const beforeRestart = events.on(h.topic('users')).length;
    assert.ok(beforeRestart < 20_000, 'stopped mid-stream');

    await h.startImporter();
    await events.waitForCount(h.topic('users'), 20_000, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    const ids = events.on(h.topic('users')).map((e) => (e.key as { id: number }).id);
    assert.equal(new Set(ids).size, 20_000, 'every change delivered');
    assert.equal(ids.length, 20_000, 'the batch in hand was published and its position saved before exit: nothing repeated');
  });
});
