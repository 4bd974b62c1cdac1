import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pgSetOrigin } from '../../../libs/legacy-db/src/postgres/postgres-writeback.sql';
import { kafkaBroker } from '../../support/infra';
import { repoRoot, testBrokers, testLogicalUrl } from '../../support/test-env';
import { TopicCollector, type Collected } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { ImportHarness, type ChangeValue } from './import-harness';

// capture.mode logical against a PostgreSQL cluster with wal_level=logical (scripts/pg-logical.sh,
// started by scripts/test.sh; PG_LOGICAL_URL), and the real broker.

const SETUP = `
CREATE TABLE users (
  id int PRIMARY KEY, name text NOT NULL, email text, balance numeric(20, 6),
  seen_at timestamptz, avatar bytea, note text, active boolean, prefs jsonb
);
CREATE TABLE "Order Lines" ("OrderNo" int NOT NULL, "LineNo" int NOT NULL, qty int, PRIMARY KEY ("OrderNo", "LineNo"));
INSERT INTO users (id, name) SELECT g, 'existing ' || g FROM generate_series(1, 300) g;`;

const TABLES = `      - name: users
        key: [id]
        capture: { mode: logical, batchSize: 200, pollIntervalMs: 200 }
      - name: Order Lines
        key: [OrderNo, LineNo]
        capture: { mode: logical, batchSize: 200, pollIntervalMs: 200 }
`;

const value = (c: Collected): ChangeValue => c.value as ChangeValue;
const idOf = (c: Collected): number => (c.key as { id: number }).id;

function seenIds(events: TopicCollector, topic: string): Set<number> {
  return new Set(events.on(topic).filter((e) => value(e).op !== 'd').map(idOf));
}

function pgLogical(command: 'stop' | 'up'): void {
  execFileSync('bash', ['scripts/pg-logical.sh', command], { cwd: repoRoot, stdio: 'ignore' });
}

const server = testLogicalUrl();

describe('legacy-import in logical mode (pgoutput slot) on a wal_level=logical cluster and the real broker', { skip: server ? false : 'PG_LOGICAL_URL is not set (scripts/test.sh starts scripts/pg-logical.sh)' }, () => {
  let h: ImportHarness;
  let events: TopicCollector;
  const slot = (): string => `sync_${h.system}`;

  before(async () => {
    h = await ImportHarness.create(SETUP, TABLES, (db) => testLogicalUrl(db)!);
    events = await new TopicCollector().start([h.topic('users'), h.topic('Order Lines')]);
    await h.startImporter();
  });

  after(async () => {
    await events?.stop();
    for (const app of h?.apps ?? []) await app.stop('SIGKILL').catch(() => undefined);
    // A database with a replication slot cannot be dropped.
    await h?.db
      .exec('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot()])
      .catch(() => undefined);
    await h?.close();
  });

  it('snapshots, then streams inserts, updates and deletes with the trigger mode\'s values, transaction ids and positions', async () => {
    const snapshot = await events.waitForCount(h.topic('users'), 300);
    assert.ok(snapshot.every((e) => value(e).op === 'r'));

    await h.db.exec(`INSERT INTO users (id, name, email, balance, seen_at, avatar, note, active, prefs)
      VALUES (1000, 'Ada', 'ada@x', 12345678901234.123456, '2026-11-24 10:00:00.5+01', '\\x00ff10', '', true, '{"a": 1.50, "b": [1, 2]}')`);
    await h.db.exec(`UPDATE users SET email = NULL, name = 'Ada L' WHERE id = 1000`);
    await h.db.exec(`DELETE FROM users WHERE id = 1000`);
    await h.db.transaction([[`INSERT INTO "Order Lines" VALUES (1, 1, 5), (1, 2, 7)`, []], [`UPDATE "Order Lines" SET qty = qty + 1 WHERE "OrderNo" = 1`, []]]);

    const users = await waitFor('three changes of user 1000', () => {
      const found = events.on(h.topic('users')).filter((e) => idOf(e) === 1000);
      return found.length >= 3 ? found : undefined;
    });
    assert.deepEqual(users.map((e) => value(e).op), ['c', 'u', 'd']);
    const [c, u, d] = users.map(value) as [ChangeValue, ChangeValue, ChangeValue];
    assert.equal(c.after?.['balance'], '12345678901234.123456', 'decimals keep every digit, as strings');
    assert.equal(c.after?.['seen_at'], '2026-11-24T09:00:00.5+00:00', 'timestamptz as ISO-8601 with offset, as to_jsonb writes it');
    assert.equal(c.after?.['avatar'], Buffer.from([0, 255, 16]).toString('base64'), 'binary as base64');
    assert.equal(c.after?.['note'], '', 'empty string stays empty');
    assert.equal(c.after?.['active'], true);
    // As the trigger mode's to_jsonb image: a JSON number whose text a double would change keeps its digits.
    assert.deepEqual(c.after?.['prefs'], { a: '1.50', b: [1, 2] });
    assert.equal(u.after?.['email'], null, 'NULL stays null');
    assert.equal(u.after?.['name'], 'Ada L');
    assert.equal(d.after, null);
    assert.deepEqual(d.before, { id: 1000 }, 'default replica identity: the delete carries the key');
    assert.match(c.source.position, /^[0-9A-F]+\/[0-9A-F]+:0$/, 'position = commit LSN : change number');
    assert.match(c.source.txId ?? '', /^\d+$/);
    assert.equal(users[0]!.message.headers['origin'], `legacy:${h.system}`);

    const lines = await events.waitForCount(h.topic('Order Lines'), 4, 60_000);
    assert.deepEqual(lines.map((e) => value(e).op), ['c', 'c', 'u', 'u']);
    assert.equal(new Set(lines.map((e) => value(e).source.txId)).size, 1, 'one transaction, one txId');
    assert.equal(value(lines[3]!).after?.['qty'], 8);
  });

  it('misses nothing when transactions commit in another order than they started (slow one plus interleavings)', async () => {
    const long = await h.db.connect();
    await long.query('BEGIN');
    await long.query(`INSERT INTO users (id, name) VALUES (5000, 'slow')`);
    for (let i = 0; i < 100; i++) await h.db.exec(`INSERT INTO users (id, name) VALUES ($1, 'fast')`, [5001 + i]);
    await long.query('COMMIT');
    await long.end();

    const ids: number[] = Array.from({ length: 101 }, (_, i) => 5000 + i);
    let next = 10_000;
    const worker = async (w: number): Promise<void> => {
      const client = await h.db.connect();
      try {
        for (let t = 0; t < 40; t++) {
          await client.query('BEGIN');
          for (let r = 0; r < 1 + ((w * 7 + t) % 3); r++) {
            const id = next++;
            ids.push(id);
            await client.query(`INSERT INTO users (id, name) VALUES ($1, 'w${w}')`, [id]);
          }
          // Random hold times let later transactions commit first.
          if ((w + t) % 4 === 0) await new Promise((res) => setTimeout(res, Math.floor(Math.random() * 60)));
          await client.query('COMMIT');
        }
      } finally {
        await client.end();
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
    await waitFor(`all ${ids.length} rows`, () => {
      const seen = seenIds(events, h.topic('users'));
      return ids.every((id) => seen.has(id));
    }, 60_000);
  });

  it('publishes a primary-key update as a delete under the old key and a create under the new one', async () => {
    await h.db.exec(`INSERT INTO users (id, name) VALUES (9000, 'mover')`);
    await h.db.exec(`UPDATE users SET id = 9001, name = 'moved' WHERE id = 9000`);
    const moved = await waitFor('the key move', () => {
      const found = events.on(h.topic('users')).filter((e) => [9000, 9001].includes(idOf(e)) && value(e).op !== 'c' || (idOf(e) === 9001 && value(e).op === 'c'));
      return found.length >= 2 ? found : undefined;
    });
    const del = moved.find((e) => value(e).op === 'd')!;
    const create = moved.find((e) => idOf(e) === 9001)!;
    assert.deepEqual(del.key, { id: 9000 });
    assert.equal(del.message.headers['__debezium.newkey'], JSON.stringify({ id: 9001 }));
    assert.equal(create.message.headers['__debezium.oldkey'], JSON.stringify({ id: 9000 }));
    assert.equal(value(create).after?.['name'], 'moved');
  });

  it('does not publish rows the write-back wrote (origin message), while other writes flow', async () => {
    const client = await h.db.connect();
    await client.query('BEGIN');
    const mark = pgSetOrigin('svc:orders');
    await client.query(mark.text, [...mark.values]);
    await client.query(`INSERT INTO users (id, name) VALUES (7000, 'written by write-back')`);
    const unmark = pgSetOrigin('');
    await client.query(unmark.text, [...unmark.values]);
    await client.query(`INSERT INTO users (id, name) VALUES (7002, 'same transaction, after the marker was cleared')`);
    await client.query('COMMIT');
    await client.end();
    await h.db.exec(`INSERT INTO users (id, name) VALUES (7001, 'legacy edit')`);
    await waitFor('the legacy edit', () => seenIds(events, h.topic('users')).has(7001));
    assert.ok(seenIds(events, h.topic('users')).has(7002));
    assert.equal(events.on(h.topic('users')).filter((e) => idOf(e) === 7000).length, 0, 'the write-back row is not echoed');
    const metrics = await fetch(h.apps[h.apps.length - 1]!.url('/metrics')).then((r) => r.text());
    assert.match(metrics, new RegExp(`sync_capture_echo_skipped_total\\{entity="${h.system}.public.users",app="legacy-import"\\} 1`));
  });

  it('exports the slot lag in bytes and seconds: it grows while one entity holds the slot (paused) and falls when it resumes', async () => {
    const app = h.apps[h.apps.length - 1]!;
    const gauge = async (name: string): Promise<number | undefined> => {
      const text = await fetch(app.url('/metrics')).then((r) => r.text());
      const m = new RegExp(`^${name}\\{slot="${slot()}"[^}]*\\} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    const syncCtl = (...args: string[]): void => {
      const run = spawnSync(process.execPath, [path.join(repoRoot, 'dist/apps/sync-ctl/src/main.js'), ...args, '--by', 'tester', '--reason', 'lag test'], {
        env: { PATH: process.env['PATH'] ?? '', PIPELINE_FILE: h.pipelineFile, KAFKA_BROKERS: testBrokers().join(','), LEGACY_DATABASE_URL: h.db.url },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 0, run.stdout + run.stderr);
    };
    await waitFor('slot gauges', async () => ((await gauge('sync_capture_slot_lag_bytes')) !== undefined ? true : undefined), 30_000, 500);
    // A paused entity acknowledges nothing: the slot must keep the WAL from its position on.
    syncCtl('pause', `${h.system}.public.Order Lines`, '--direction', 'legacy-to-new');
    await new Promise((res) => setTimeout(res, 2_000));
    const low = (await gauge('sync_capture_slot_lag_bytes'))!;
    for (let i = 0; i < 5; i++) await h.db.exec(`INSERT INTO users (id, name) SELECT g, repeat('x', 200) FROM generate_series($1::int, $1::int + 999) g`, [20_000 + i * 1000]);
    await waitFor('users published while the other entity is paused', () => (seenIds(events, h.topic('users')).has(24_999) ? true : undefined), 60_000);
    const high = await waitFor('slot lag grows', async () => {
      const bytes = (await gauge('sync_capture_slot_lag_bytes'))!;
      return bytes > low + 500_000 ? bytes : undefined;
    }, 30_000, 500);
    assert.ok((await gauge('sync_capture_slot_lag_seconds'))! > 0, 'received changes wait for the paused entity');
    syncCtl('resume', `${h.system}.public.Order Lines`, '--direction', 'legacy-to-new');
    await waitFor('slot lag falls after resume', async () => {
      const bytes = (await gauge('sync_capture_slot_lag_bytes'))!;
      return bytes < high / 2 && (await gauge('sync_capture_slot_lag_seconds')) === 0 ? true : undefined;
    }, 60_000, 500);
  });

  it('loses nothing when legacy-import is killed (-9) mid-stream and restarted', async () => {
    const wanted: number[] = [];
    const writer = (async () => {
      for (let i = 0; i < 60; i++) {
        const from = 30_000 + i * 30;
        await h.db.transaction([[`INSERT INTO users (id, name) SELECT g, 'k' FROM generate_series($1::int, $1::int + 29) g`, [from]]]);
        for (let k = 0; k < 30; k++) wanted.push(from + k);
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    await waitFor('some rows before the kill', () => (seenIds(events, h.topic('users')).has(30_100) ? true : undefined), 60_000);
    await h.apps[h.apps.length - 1]!.stop('SIGKILL');
    await h.startImporter();
    await writer;
    await waitFor(`all ${wanted.length} rows after the restart`, () => {
      const seen = seenIds(events, h.topic('users'));
      return wanted.every((id) => seen.has(id)) ? true : undefined;
    }, 90_000);
  });

  // Only the cluster scripts/pg-logical.sh manages can be crashed and restarted from here.
  const ownCluster = server !== undefined && new URL(server).port === (process.env['PG_LOGICAL_IT_PORT'] ?? '55452');
  it('loses nothing when PostgreSQL stops immediately (crash) and restarts', { skip: ownCluster ? false : 'PG_LOGICAL_URL is not the scripts/pg-logical.sh cluster' }, async () => {
    await h.db.exec(`INSERT INTO users (id, name) SELECT g, 'before crash' FROM generate_series(40000, 40099) g`);
    pgLogical('stop');
    pgLogical('up');
    await h.db.exec(`INSERT INTO users (id, name) SELECT g, 'after crash' FROM generate_series(40100, 40199) g`);
    await waitFor('all 200 rows around the crash', () => {
      const seen = seenIds(events, h.topic('users'));
      for (let id = 40000; id < 40200; id++) if (!seen.has(id)) return undefined;
      return true;
    }, 120_000);
  });

  it('loses nothing when the broker stops mid-stream and comes back (the slot is not acknowledged past what Kafka acked)', async () => {
    const wanted: number[] = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 0; i < 400 && !stop; i++) {
        const from = 60_000 + i * 10;
        await h.db.transaction([[`INSERT INTO users (id, name) SELECT g, 'b' FROM generate_series($1::int, $1::int + 9) g`, [from]]]);
        for (let k = 0; k < 10; k++) wanted.push(from + k);
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    await waitFor('some rows before the broker stops', () => (seenIds(events, h.topic('users')).has(60_050) ? true : undefined), 60_000);
    kafkaBroker('stop');
    try {
      // Changes keep committing into the WAL while Kafka is away.
      await new Promise((res) => setTimeout(res, 8_000));
    } finally {
      kafkaBroker('start');
    }
    await new Promise((res) => setTimeout(res, 3_000));
    stop = true;
    await writer;
    await waitFor(`all ${wanted.length} rows after the broker came back`, () => {
      const seen = seenIds(events, h.topic('users'));
      return wanted.every((id) => seen.has(id)) ? true : undefined;
    }, 180_000);
  });

  it('re-creates a dropped slot and re-snapshots, saying so', async () => {
    const app = h.apps[h.apps.length - 1]!;
    await app.stop('SIGKILL');
    await waitFor('slot inactive', async () => ((await h.db.exec<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot()]))[0]?.active === false ? true : undefined), 30_000, 200);
    await h.db.exec('SELECT pg_drop_replication_slot($1)', [slot()]);
    await h.db.exec(`INSERT INTO users (id, name) VALUES (50000, 'while the slot was gone')`);
    const snapshots = events.on(h.topic('users')).filter((e) => value(e).op === 'r').length;
    await h.startImporter();
    await waitFor('a re-snapshot carrying the row written without a slot', () => {
      const r = events.on(h.topic('users')).filter((e) => value(e).op === 'r');
      return r.length > snapshots && r.some((e) => idOf(e) === 50000) ? true : undefined;
    }, 90_000);
    await h.db.exec(`INSERT INTO users (id, name) VALUES (50001, 'after the re-creation')`);
    await waitFor('streaming again', () => (seenIds(events, h.topic('users')).has(50001) ? true : undefined), 60_000);
    const row = (await h.db.exec<{ n: string }>('SELECT count(*)::text AS n FROM pg_replication_slots WHERE slot_name = $1', [slot()]))[0]!;
    assert.equal(row.n, '1');
  });
});

