import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LegacyDatabase } from '../../support/legacy-database';
import { testDatabaseUrl, testLogicalUrl } from '../../support/test-env';

const SYNC_CTL = path.join(__dirname, '../../../apps/sync-ctl/src/main.js');

function pipelineFile(): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'logical-schema-')), 'pipeline.yaml');
  writeFileSync(file, `version: 1
systems:
  shop:
    dialect: postgres
    connection:
      url: { env: SHOP_DATABASE_URL }
    tables:
      - { name: orders, key: [id], capture: { mode: logical } }
      - { name: notes, key: [ref], capture: { mode: logical } }
`);
  return file;
}

function syncCtl(url: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [SYNC_CTL, 'schema', '--pipeline', pipelineFile(), ...args], {
    env: { PATH: process.env['PATH'] ?? '', SHOP_DATABASE_URL: url },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const SETUP = 'CREATE TABLE orders (id int PRIMARY KEY, total int); CREATE TABLE notes (ref text NOT NULL, body text)';

describe('sync-ctl schema for capture.mode logical', { skip: testLogicalUrl() ? false : 'PG_LOGICAL_URL is not set (scripts/test.sh starts scripts/pg-logical.sh)' }, () => {
  let db: LegacyDatabase;
  before(async () => {
    db = await LegacyDatabase.create('logical_schema', (name) => testLogicalUrl(name)!);
    await db.exec(SETUP);
  });
  after(async () => {
    await db?.exec(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'sync_shop' AND database = current_database()`).catch(() => undefined);
    await db?.drop();
  });

  it('--verify names what is missing, --apply sets the identity, creates publication and slot, then --verify passes', () => {
    const before = syncCtl(db.url, '--verify');
    assert.equal(before.status, 1, before.stdout + before.stderr);
    assert.match(before.stdout, /publication sync_shop does not exist/);
    assert.match(before.stdout, /shop\.public\.notes: has no primary key, so updates and deletes would not carry the key/);
    assert.doesNotMatch(before.stdout, /orders: .*replica identity/, 'a table with a primary key needs nothing');

    const apply = syncCtl(db.url, '--apply');
    assert.equal(apply.status, 0, apply.stdout + apply.stderr);
    assert.match(apply.stderr, /shop: created replication slot sync_shop at [0-9A-F]+\/[0-9A-F]+/);

    const after = syncCtl(db.url, '--verify');
    assert.equal(after.status, 0, after.stdout + after.stderr);
    assert.equal(after.stdout.trim(), 'shop: ready');
    const again = syncCtl(db.url, '--apply');
    assert.equal(again.status, 0, 'idempotent');
    assert.match(again.stderr, /replication slot sync_shop exists/);
  });

  it('--verify on a wal_level=replica server says so', async () => {
    const other = await LegacyDatabase.create('logical_replica', testDatabaseUrl);
    try {
      await other.exec(SETUP);
      const run = syncCtl(other.url, '--verify');
      assert.equal(run.status, 1);
      assert.match(run.stdout, /wal_level is replica: logical decoding needs wal_level = logical/);
    } finally {
      await other.drop();
    }
  });
});
