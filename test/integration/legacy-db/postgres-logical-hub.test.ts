import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'pg';
import { parsePipeline, type SystemConfig } from '@sync/config';
import { applyDdl, changelogDdl, createLegacyDb, prepareCapture } from '@sync/legacy-db';
import { parseLsn } from '../../../libs/legacy-db/src/postgres/pgoutput.decoder';
import { PostgresLogicalHub } from '../../../libs/legacy-db/src/postgres/postgres-logical.hub';
import { PostgresLogicalSource } from '../../../libs/legacy-db/src/postgres/postgres-logical.source';
import { LegacyDatabase } from '../../support/legacy-database';
import { testLogicalUrl } from '../../support/test-env';
import { waitFor } from '../../support/wait-for';

// The shared stream of one system against a real wal_level=logical cluster: a table nobody reads
// overflows its queue and is re-read from the slot; the slot's flush position is the lowest
// acknowledged one.

const server = testLogicalUrl();

describe('logical capture hub: one slot for several tables', { skip: server ? false : 'PG_LOGICAL_URL is not set (scripts/test.sh starts scripts/pg-logical.sh)' }, () => {
  let db: LegacyDatabase;
  let pool: Pool;
  let hub: PostgresLogicalHub;
  let system: SystemConfig;

  before(async () => {
    db = await LegacyDatabase.create('logical_hub', (name) => testLogicalUrl(name)!);
    await db.exec('CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (id int PRIMARY KEY, v text)');
    system = parsePipeline(
      `version: 1
systems:
  hub:
    dialect: postgres
    connection: { url: { env: X } }
    tables:
      - { name: a, key: [id], capture: { mode: logical, batchSize: 1 } }
      - { name: b, key: [id], capture: { mode: logical, batchSize: 1 } }
`,
      'hub.yaml',
    ).systems.get('hub')!;
    const legacy = createLegacyDb({ system: 'hub', dialect: 'postgres', url: { reveal: () => db.url }, poolSize: 2 }, () => undefined);
    try {
      await applyDdl(legacy, changelogDdl(system));
      await prepareCapture(legacy, system);
    } finally {
      await legacy.close();
    }
    pool = new Pool({ connectionString: db.url, max: 3 });
    // Queues of at most 20 changes (batchSize 1 × 20): 50 transactions overflow a table nobody reads.
    hub = new PostgresLogicalHub(pool, { connectionString: db.url }, system, () => undefined, 10);
  });

  after(async () => {
    await hub?.close();
    await waitFor('slot released', async () => ((await pool.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'sync_hub' AND active")).rowCount === 0 ? true : undefined), 30_000, 200).catch(() => undefined);
    await pool?.query("SELECT pg_drop_replication_slot('sync_hub')").catch(() => undefined);
    await pool?.end();
    await db?.drop();
  });

  async function drain(source: PostgresLogicalSource, from: string, until: (ids: number[]) => boolean): Promise<{ ids: number[]; position: string }> {
    const ids: number[] = [];
    let position = from;
    await waitFor('changes read', async () => {
      const batch = await source.readChanges(position, 5);
      for (const c of batch.changes) ids.push(Number(c.after!['id']));
      position = batch.next;
      return until(ids) ? true : undefined;
    }, 60_000, 50);
    return { ids, position };
  }

  it('re-reads an overflowed table from the slot, keeps the other table free of repeats, and flushes the lowest acknowledged position', async () => {
    const [ta, tb] = system.tables as [SystemConfig['tables'][0], SystemConfig['tables'][0]];
    const a = new PostgresLogicalSource(pool, hub, ta);
    const b = new PostgresLogicalSource(pool, hub, tb);
    const startA = await a.startPosition();
    const startB = await b.startPosition();
    for (let i = 1; i <= 50; i++) {
      await db.transaction([
        ['INSERT INTO a VALUES ($1, $2)', [i, `a${i}`]],
        ['INSERT INTO b VALUES ($1, $2)', [i, `b${i}`]],
      ]);
    }
    const fromB = await drain(b, startB, (ids) => ids.length >= 50);
    assert.deepEqual(fromB.ids, Array.from({ length: 50 }, (_, i) => i + 1), 'b: every row once, in commit order');

    // a's queue overflowed while only b was read: its first read rewinds the stream from the slot.
    const fromA = await drain(a, startA, (ids) => ids.length >= 50);
    assert.deepEqual(fromA.ids, Array.from({ length: 50 }, (_, i) => i + 1), 'a: every row once, in commit order, after the rewind');
    const again = await b.readChanges(fromB.position, 100);
    assert.equal(again.changes.length, 0, 'b drops the repeats of the rewound stream');

    const confirmed = async (): Promise<bigint> => parseLsn((await pool.query<{ c: string }>("SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = 'sync_hub'")).rows[0]!.c);
    const before = await confirmed();
    b.acknowledge(fromB.position);
    await new Promise((res) => setTimeout(res, 1_500));
    assert.equal(await confirmed(), before, 'one table acknowledged: the slot stays where the other one is');
    a.acknowledge(fromA.position);
    const low = parseLsn(fromA.position) < parseLsn(fromB.position) ? parseLsn(fromA.position) : parseLsn(fromB.position);
    await waitFor('slot flushed to the lowest acknowledged position', async () => ((await confirmed()) === low ? true : undefined), 30_000, 200);
  });

  it('frees the slot once every table of the system is released (its lease moved), and streams again from the slot when taken over', async () => {
    const [ta, tb] = system.tables as [SystemConfig['tables'][0], SystemConfig['tables'][0]];
    const active = async (): Promise<boolean> => ((await pool.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'sync_hub' AND active")).rowCount ?? 0) > 0;
    const a = new PostgresLogicalSource(pool, hub, ta);
    const b = new PostgresLogicalSource(pool, hub, tb);
    const startA = await a.startPosition();
    await b.readChanges(await b.startPosition(), 1);
    await waitFor('the stream holds the slot', async () => ((await active()) ? true : undefined), 30_000, 200);
    a.release();
    await new Promise((res) => setTimeout(res, 1_000));
    assert.equal(await active(), true, 'one table still captured here: the stream stays');
    b.release();
    await waitFor('the slot is free for another replica', async () => ((await active()) ? undefined : true), 30_000, 200);
    // Taken over (here by the same process): a new source of the table reads what was committed meanwhile.
    await db.exec(`INSERT INTO a VALUES (1001, 'after release')`);
    const again = new PostgresLogicalSource(pool, hub, ta);
    const read = await drain(again, startA, (ids) => ids.includes(1001));
    assert.ok(read.ids.includes(1001));
  });
});
