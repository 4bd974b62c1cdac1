import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, ImportHarness } from '../integration/legacy-import/import-harness';
import { importEntities } from '../support/legacy-import-app';
import { repoRoot, testBrokers } from '../support/test-env';
import { TopicCollector } from '../support/topic-collector';
import { waitFor } from '../support/wait-for';

const run = promisify(execFile);

describe('per-entity control: pause and resume legacy→new while another entity flows', () => {
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

  async function entityState(entity: string): Promise<string | undefined> {
    return (await importEntities(h.apps[0]!, ADMIN_TOKEN)).find((e) => e.entity === entity)?.sync;
  }

  before(async () => {
    h = await ImportHarness.create(
      'CREATE TABLE users (id int PRIMARY KEY, name text); CREATE TABLE orders (id int PRIMARY KEY, total int)',
      `      - name: users\n        key: [id]\n        capture: { mode: trigger, pollIntervalMs: 100 }\n      - name: orders\n        key: [id]\n        capture: { mode: trigger, pollIntervalMs: 100 }\n`,
    );
    events = await new TopicCollector().start([h.topic('users'), h.topic('orders')]);
    await h.startImporter();
  });

  after(async () => {
    await events.stop();
    await h.close();
  });

  it('holds back 100 changes while paused and delivers them all, in order, once, on resume', async () => {
    const users = `${h.system}.public.users`;
    await h.db.exec(`INSERT INTO users SELECT g, 'before ' || g FROM generate_series(1, 10) g`);
    await events.waitForCount(h.topic('users'), 10);

    const paused = await syncCtl('pause', users, '--direction', 'legacy-to-new', '--reason', 'e2e test', '--by', 'tester');
    assert.equal(paused.code, 0, paused.stderr);
    await waitFor('importer applied the pause', async () => ((await entityState(users)) === 'paused' ? true : undefined), 15_000, 200);

    for (let i = 0; i < 100; i++) await h.db.exec(`INSERT INTO users VALUES ($1, 'while paused')`, [100 + i]);
    await h.db.exec(`INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 20) g`);
    await events.waitForCount(h.topic('orders'), 20);
    // The other entity flowed; give the paused one a few more poll intervals to (wrongly) deliver.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(events.on(h.topic('users')).length, 10, 'nothing arrives for a paused entity');

    const status = await syncCtl('status', '--json');
    const report = JSON.parse(status.stdout) as { entities: Array<{ entity: string; legacyToNew: string; newToLegacy: string; legacyEvents: number; secondsSinceLastChange: number | null }> };
    const row = report.entities.find((e) => e.entity === users)!;
    assert.equal(row.legacyToNew, 'paused');
    assert.equal(row.newToLegacy, 'enabled');
    assert.equal(row.legacyEvents, 10);
    assert.ok(row.secondsSinceLastChange !== null && row.secondsSinceLastChange < 120, 'last change seen is reported');

    const resumed = await syncCtl('resume', users, '--direction', 'legacy-to-new', '--by', 'tester');
    assert.equal(resumed.code, 0, resumed.stderr);
    const all = await events.waitForCount(h.topic('users'), 110, 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    const held = events.on(h.topic('users')).slice(10).map((e) => (e.key as { id: number }).id);
    assert.deepEqual(held, Array.from({ length: 100 }, (_, i) => 100 + i), 'all 100, in order, none twice');
    assert.equal(all.length, 110);

    const history = await syncCtl('history', users, '--json');
    const changes = (JSON.parse(history.stdout) as Array<{ state?: string; by: string; reason: string }>).map((c) => [c.state, c.by]);
    assert.deepEqual(changes, [['paused', 'tester'], ['enabled', 'tester']]);
  });

  it('rejects an unknown entity with exit code 2 and names it', async () => {
    const res = await syncCtl('pause', `${h.system}.public.nope`);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /entity ".*\.public\.nope" is not in the pipeline file/);
  });
});

describe('per-entity control: pause and resume new→legacy in legacy-writeback', () => {
  it('holds back 100 commands while paused, applies another entity meanwhile, and all 100 in order on resume', async () => {
    const { WritebackHarness } = await import('../integration/legacy-writeback/writeback-harness');
    const { postgresDialect } = await import('../integration/legacy-writeback/writeback-dialects');
    const h = await WritebackHarness.create(
      postgresDialect,
      ['CREATE TABLE notes (id int PRIMARY KEY, body text, seq int)', 'CREATE TABLE tags (id int PRIMARY KEY, label text)'],
      `      - name: notes\n        key: [id]\n      - name: tags\n        key: [id]\n`,
    );
    try {
      await h.startWriteback({ env: { ADMIN_TOKEN } });
      const wb = h.apps[0]!;
      const entity = `${h.system}.public.notes`;
      const switchTo = async (state: string): Promise<void> => {
        const res = await fetch(wb.url('/admin/control'), {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ entity, direction: 'new-to-legacy', state, by: 'tester', reason: 'e2e' }),
        });
        assert.equal(res.status, 202);
      };
      await switchTo('paused');
      await waitFor('the switch is known', async () => {
        const res = await fetch(wb.url('/admin/control'), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        return ((await res.json()) as Array<{ entity: string; state: string }>).some((r) => r.entity === entity && r.state === 'paused') ? true : undefined;
      }, 15_000, 200);
      // The same row written 100 times: only applying all of them in order leaves seq = 99.
      await h.send(Array.from({ length: 100 }, (_, i) => h.command('notes', 'upsert', { id: 1 }, { body: `v${i}`, seq: i })));
      await h.send([h.command('tags', 'upsert', { id: 1 }, { label: 'flows' })]);
      await waitFor('the other entity is applied', async () => ((await h.db.exec('SELECT 1 FROM tags WHERE id = 1')).length === 1 ? true : undefined), 30_000, 200);
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal((await h.db.exec('SELECT 1 FROM notes')).length, 0, 'nothing applied for the paused entity');

      await switchTo('enabled');
      await waitFor('all 100 applied', async () => {
        const rows = await h.db.exec<{ seq: number }>('SELECT seq FROM notes WHERE id = 1');
        return rows[0]?.seq === 99 ? true : undefined;
      }, 30_000, 200);
      const inbox = await h.db.exec<{ n: string }>(`SELECT count(*)::text AS n FROM sync.inbox WHERE table_name = 'notes'`);
      assert.equal(Number(inbox[0]!.n), 100, 'each command applied once');
    } finally {
      await h.close();
    }
  });
});
