import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LegacyDatabase } from '../../support/legacy-database';

const SYNC_CTL = path.join(__dirname, '../../../apps/sync-ctl/src/main.js');

describe('sync-ctl schema --apply with tables whose changelog names collide', () => {
  let db: LegacyDatabase;
  before(async () => {
    db = await LegacyDatabase.create('collide');
    await db.exec('CREATE SCHEMA sales_eu; CREATE SCHEMA sales; CREATE TABLE sales_eu.orders (id int PRIMARY KEY); CREATE TABLE sales.eu_orders (id int PRIMARY KEY)');
  });
  after(async () => {
    await db?.drop();
  });

  it('refuses before touching the database, naming both tables and the shared name', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'collide-'));
    const file = path.join(dir, 'pipeline.yaml');
    writeFileSync(file, `version: 1
systems:
  crm:
    dialect: postgres
    connection:
      url: { env: COLLIDE_DATABASE_URL }
    tables:
      - { schema: sales_eu, name: orders, key: [id] }
      - { schema: sales, name: eu_orders, key: [id] }
`);
    const run = spawnSync(process.execPath, [SYNC_CTL, 'schema', '--pipeline', file, '--apply'], {
      env: { PATH: process.env['PATH'] ?? '', COLLIDE_DATABASE_URL: db.url },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 2, `exit code 2 (configuration): ${run.stdout}\n${run.stderr}`);
    assert.match(run.stderr, /systems\.crm\.tables\[1\]\.name: table sales\.eu_orders and table sales_eu\.orders \(tables\[0\]\) derive the same sync-schema relation name "sales_eu_orders_changes"/);
    assert.equal(run.stdout, '', 'no DDL printed');
    const schemas = await db.exec(`SELECT nspname FROM pg_namespace WHERE nspname = 'sync'`);
    assert.deepEqual(schemas, [], 'no sync schema was created');
    const triggers = await db.exec(`SELECT tgname FROM pg_trigger WHERE NOT tgisinternal`);
    assert.deepEqual(triggers, [], 'no trigger was created');
  });
});
