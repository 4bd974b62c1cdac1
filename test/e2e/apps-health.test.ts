import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { APP_NAMES, parsePipeline } from '@sync/config';
import { applyDdl, changelogDdl, createLegacyDb } from '@sync/legacy-db';
import { LegacyDatabase } from '../support/legacy-database';
import { AppProcess } from '../support/app-process';
import { kafkaBroker } from '../support/infra';
import { repoRoot, testBrokers, testDatabaseUrl } from '../support/test-env';
import { waitFor } from '../support/wait-for';

const PIPELINE_FILE = path.join(repoRoot, 'test', 'fixtures', 'pipeline', 'e2e.pipeline.yaml');
const env: Record<string, string> = {
  KAFKA_BROKERS: testBrokers().join(','),
  PIPELINE_FILE,
  KEYMAP_DATABASE_URL: testDatabaseUrl('postgres'),
  LOG_LEVEL: 'warn',
  SHUTDOWN_TIMEOUT_MS: '15000',
};

/** The legacy database of the e2e pipeline: its tables, with change capture installed. */
async function legacyDatabase(): Promise<LegacyDatabase> {
  const db = await LegacyDatabase.create('e2e_health');
  await db.exec('CREATE TABLE users (id serial PRIMARY KEY, name text); CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users (id))');
  const system = parsePipeline(readFileSync(PIPELINE_FILE, 'utf8'), PIPELINE_FILE).systems.get('crm')!;
  const conn = createLegacyDb({ system: 'crm', dialect: 'postgres', url: { reveal: () => db.url }, poolSize: 1 }, () => undefined);
  try {
    await applyDdl(conn, changelogDdl(system));
  } finally {
    await conn.close();
  }
  return db;
}

describe('the four apps as separate processes on the real broker', () => {
  const apps: AppProcess[] = [];
  let db: LegacyDatabase;

  before(async () => {
    db = await legacyDatabase();
    env['CRM_DATABASE_URL'] = db.url;
    for (const app of APP_NAMES) apps.push(await AppProcess.start(app, env));
  });

  after(async () => {
    for (const app of apps) await app.stop('SIGKILL').catch(() => undefined);
    await db?.drop();
  });

  function allStatus(pathname: string): Promise<number[]> {
    return Promise.all(apps.map((a) => a.status(pathname)));
  }

  it('each app becomes ready, and serves liveness and Prometheus metrics', async () => {
    for (const app of apps) {
      await waitFor(`${app.app} ready`, async () => (await app.status('/health/ready')) === 200 || (app.isRunning() ? undefined : Promise.reject(new Error(app.logs()))), 90_000, 250);
      assert.equal(await app.status('/health/live'), 200);
      assert.equal(await app.status('/health/startup'), 200);
      const metrics = await fetch(app.url('/metrics')).then((r) => r.text());
      assert.match(metrics, /process_cpu_user_seconds_total\{app="[a-z-]+"\}/);
      assert.match(metrics, new RegExp(`sync_kafka_connected\\{app="${app.app}"\\} 1`));
    }
    const ready = await apps[1]!.json('/health/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(Object.keys((ready.body as { info: object }).info).sort(), ['control', 'kafka', 'keymap-db', 'startup', 'translation-consumers']);
  });

  it('with Kafka stopped, ready turns 503 naming kafka while live stays 200; ready recovers without a restart', async () => {
    const pids = apps.map((a) => a.proc.pid);
    kafkaBroker('stop');
    try {
      await waitFor('every app not ready', async () => (await allStatus('/health/ready')).every((s) => s === 503), 60_000, 500);
      const ready = await apps[0]!.json('/health/ready');
      assert.equal(ready.status, 503);
      assert.equal((ready.body as { error: Record<string, { status: string }> }).error['kafka']?.status, 'down');
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await allStatus('/health/live'), [200, 200, 200, 200], 'liveness never depends on Kafka');
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      kafkaBroker('start');
    }
    await waitFor('every app ready again', async () => (await allStatus('/health/ready')).every((s) => s === 200), 90_000, 500).catch(async (err: Error) => {
      const bodies = await Promise.all(apps.map(async (a) => `${a.app}: ${JSON.stringify((await a.json('/health/ready').catch(() => ({ body: 'no answer' }))).body)}`));
      throw new Error(`${err.message}\n${bodies.join('\n')}`);
    });
    assert.deepEqual(apps.map((a) => a.proc.pid), pids, 'no app was restarted');
    assert.ok(apps.every((a) => a.isRunning()));
  });

  it('SIGTERM stops every app cleanly', async () => {
    const codes = await Promise.all(apps.map((a) => a.stop('SIGTERM', 20_000)));
    assert.deepEqual(codes, [0, 0, 0, 0], apps.map((a) => a.logs().slice(-2000)).join('\n'));
  });
});

describe('an app with a broken pipeline file', () => {
  it('exits with code 2 and names the bad path', async () => {
    const app = await AppProcess.start('legacy-import', { ...env, CRM_DATABASE_URL: testDatabaseUrl('postgres'), PIPELINE_FILE: path.join(repoRoot, 'test', 'fixtures', 'pipeline', 'broken-key.pipeline.yaml') });
    const code = await app.waitExit(30_000);
    assert.equal(code, 2);
    assert.match(app.logs(), /systems\.crm\.tables\[1\]\.key: must not be empty/);
  });

  it('a legacy database secret that is not set is a configuration error too (exit 2, path and variable named)', async () => {
    // valid.pipeline.yaml reads the crm password from CRM_DB_PASSWORD, which is not set here.
    const app = await AppProcess.start('legacy-writeback', { ...env, PIPELINE_FILE: path.join(repoRoot, 'test', 'fixtures', 'pipeline', 'valid.pipeline.yaml') });
    const code = await app.waitExit(30_000);
    assert.equal(code, 2, app.logs());
    assert.match(app.logs(), /invalid configuration/);
    assert.match(app.logs(), /systems\.crm\.connection/);
  });
});
