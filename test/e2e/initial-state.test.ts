import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, ImportHarness } from '../integration/legacy-import/import-harness';
import { AppProcess } from '../support/app-process';
import { importEntities } from '../support/legacy-import-app';
import { repoRoot, testBrokers } from '../support/test-env';
import { TopicCollector } from '../support/topic-collector';
import { waitFor } from '../support/wait-for';

const run = promisify(execFile);

// `initialState: disabled` (pipeline file): a new entity publishes nothing and writes nothing back
// until `sync-ctl enable`, on a real broker and database; a control record, once written, wins.
describe('initialState: disabled keeps a new entity off until sync-ctl enable (legacy→new)', () => {
  let h: ImportHarness;
  let events: TopicCollector;

  async function syncCtl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [path.join(repoRoot, 'dist', 'apps', 'sync-ctl', 'src', 'main.js'), ...args], {
        env: { PATH: process.env['PATH'] ?? '', PIPELINE_FILE: h.pipelineFile, KAFKA_BROKERS: testBrokers().join(','), LEGACY_DATABASE_URL: h.db.url },
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  before(async () => {
    h = await ImportHarness.create(
      'CREATE TABLE users (id int PRIMARY KEY, name text); CREATE TABLE orders (id int PRIMARY KEY, total int)',
      `      - name: users\n        key: [id]\n        initialState: disabled\n        capture: { mode: trigger, pollIntervalMs: 100 }\n      - name: orders\n        key: [id]\n        capture: { mode: trigger, pollIntervalMs: 100 }\n`,
    );
    events = await new TopicCollector().start([h.topic('users'), h.topic('orders')]);
    // Not h.startImporter(): it waits for every entity to stream, and a disabled one never does.
    const app = await AppProcess.start('legacy-import', { KAFKA_BROKERS: testBrokers().join(','), LOG_LEVEL: 'warn', PIPELINE_FILE: h.pipelineFile, LEGACY_DATABASE_URL: h.db.url, ADMIN_TOKEN });
    h.apps.push(app);
    await waitFor('legacy-import ready', async () => (await app.status('/health/ready')) === 200 || (app.isRunning() ? undefined : Promise.reject(new Error(app.logs()))), 60_000, 200);
  });

  after(async () => {
    await events.stop();
    await h.close();
  });

  it('publishes nothing for the disabled entity while the other flows; enable snapshots it', async () => {
    const users = `${h.system}.public.users`;
    const orders = `${h.system}.public.orders`;
    await waitFor('the enabled entity streams', async () => ((await importEntities(h.apps[0]!, ADMIN_TOKEN)).find((e) => e.entity === orders)?.state?.phase === 'streaming' ? true : undefined), 60_000, 200);
    assert.equal((await importEntities(h.apps[0]!, ADMIN_TOKEN)).find((e) => e.entity === users)?.sync, 'disabled');

    await h.db.exec(`INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 5) g`);
    await h.db.exec(`INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 5) g`);
    await events.waitForCount(h.topic('orders'), 5);
    // The enabled entity flowed; give the disabled one a few more poll intervals to (wrongly) deliver.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(events.on(h.topic('users')).length, 0, 'nothing is published for an entity declared disabled');

    const status = JSON.parse((await syncCtl('status', '--json')).stdout) as { entities: Array<{ entity: string; legacyToNew: string; newToLegacy: string }> };
    const row = status.entities.find((e) => e.entity === users)!;
    assert.deepEqual([row.legacyToNew, row.newToLegacy], ['disabled', 'disabled'], 'status shows the declared state without any control record');

    const enabled = await syncCtl('enable', users, '--reason', 'reviewed', '--by', 'tester');
    assert.equal(enabled.code, 0, enabled.stderr);
    const published = await events.waitForCount(h.topic('users'), 5, 30_000);
    assert.deepEqual(published.map((e) => (e.key as { id: number }).id).sort(), [1, 2, 3, 4, 5]);
    await h.db.exec(`INSERT INTO users VALUES (6, 'after enable')`);
    await events.waitForCount(h.topic('users'), 6, 30_000);
  });
});

describe('initialState: disabled holds write-back commands until enabled (new→legacy)', () => {
  it('applies nothing for the disabled entity while another is applied; enabling applies the held commands', async () => {
    const { WritebackHarness } = await import('../integration/legacy-writeback/writeback-harness');
    const { postgresDialect } = await import('../integration/legacy-writeback/writeback-dialects');
    const h = await WritebackHarness.create(
      postgresDialect,
      ['CREATE TABLE notes (id int PRIMARY KEY, body text)', 'CREATE TABLE tags (id int PRIMARY KEY, label text)'],
      `      - name: notes\n        key: [id]\n        initialState: disabled\n      - name: tags\n        key: [id]\n`,
    );
    try {
      await h.startWriteback({ env: { ADMIN_TOKEN } });
      const wb = h.apps[0]!;
      await h.send([h.command('notes', 'upsert', { id: 1 }, { body: 'held' })]);
      await h.send([h.command('tags', 'upsert', { id: 1 }, { label: 'flows' })]);
      await waitFor('the other entity is applied', async () => ((await h.db.exec('SELECT 1 FROM tags WHERE id = 1')).length === 1 ? true : undefined), 30_000, 200);
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal((await h.db.exec('SELECT 1 FROM notes')).length, 0, 'nothing applied for an entity declared disabled');

      const res = await fetch(wb.url('/admin/control'), {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ entity: `${h.system}.public.notes`, direction: 'new-to-legacy', state: 'enabled', by: 'tester', reason: 'reviewed' }),
      });
      assert.equal(res.status, 202);
      await waitFor('the held command is applied', async () => ((await h.db.exec<{ body: string }>('SELECT body FROM notes WHERE id = 1'))[0]?.body === 'held' ? true : undefined), 30_000, 200);
    } finally {
      await h.close();
    }
  });
});
