import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TopicCollector, type Collected } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { ADMIN_TOKEN, ImportHarness, type ChangeValue } from './import-harness';

const SETUP = `
CREATE TABLE users (
  id serial PRIMARY KEY, name text NOT NULL, email text, balance numeric(20, 6),
  seen_at timestamptz, avatar bytea, note text
);
CREATE TABLE "Order Lines" (
  "OrderNo" int NOT NULL, "LineNo" int NOT NULL, "select" text, qty int,
  PRIMARY KEY ("OrderNo", "LineNo")
);`;

// Every test runs at both trigger levels (capture.triggerLevel): the statement level must behave
// exactly as the row level.
const TRIGGER_LEVELS = ['statement', 'row'] as const;

const tables = (level: (typeof TRIGGER_LEVELS)[number]): string => `      - name: users
        key: [id]
        columns: [id, name, email]
        capture: { mode: trigger, triggerLevel: ${level}, batchSize: 200, pollIntervalMs: 200, retentionMs: 1000 }
      - name: Order Lines
        key: [OrderNo, LineNo]
        capture: { mode: trigger, triggerLevel: ${level}, batchSize: 200, pollIntervalMs: 200 }
`;

function value(c: Collected): ChangeValue {
  return c.value as ChangeValue;
}

for (const level of TRIGGER_LEVELS) describe(`legacy-import on PostgreSQL (trigger changelog, ${level}-level triggers) and the real broker`, () => {
  let h: ImportHarness;
  let events: TopicCollector;

  before(async () => {
    h = await ImportHarness.create(SETUP, tables(level));
    await h.db.exec(`INSERT INTO users (name, email) SELECT 'existing ' || g, 'e' || g || '@x' FROM generate_series(1, 450) g`);
    events = await new TopicCollector().start([h.topic('users'), h.topic('Order Lines')]);
    await h.startImporter();
  });

  after(async () => {
    await events.stop();
    await h.close();
  });

  it('snapshots existing rows as op r, then streams inserts, updates and deletes in order with exact values', async () => {
    const snapshot = await events.waitForCount(h.topic('users'), 450);
    assert.ok(snapshot.every((e) => value(e).op === 'r'));
    assert.deepEqual(new Set(snapshot.map((e) => (e.key as { id: number }).id)).size, 450);

    await h.db.exec(`INSERT INTO users (id, name, email, balance, seen_at, avatar, note) VALUES (1000, 'Ada', 'ada@x', 12345678901234.123456, '2026-11-24 10:00:00.5+01', '\\x00ff10', '')`);
    await h.db.exec(`UPDATE users SET email = NULL, name = 'Ada L' WHERE id = 1000`);
    await h.db.exec(`DELETE FROM users WHERE id = 1000`);
    await h.db.exec(`INSERT INTO "Order Lines" VALUES (1, 1, 'from', 5), (1, 2, NULL, 7)`);
    await h.db.exec(`UPDATE "Order Lines" SET qty = qty + 1 WHERE "OrderNo" = 1`);

    const users = await waitFor('three changes of user 1000', () => {
      const found = events.on(h.topic('users')).filter((e) => (e.key as { id: number }).id === 1000);
      return found.length >= 3 ? found : undefined;
    });
    assert.deepEqual(users.map((e) => value(e).op), ['c', 'u', 'd']);
    const [c, u, d] = users.map(value) as [ChangeValue, ChangeValue, ChangeValue];
    assert.equal(c.after?.['balance'], '12345678901234.123456', 'decimals keep every digit, as strings');
    assert.equal(c.after?.['seen_at'], '2026-11-24T09:00:00.5+00:00', 'timestamptz as ISO-8601 with offset');
    assert.equal(c.after?.['avatar'], Buffer.from([0, 255, 16]).toString('base64'), 'binary as base64');
    assert.equal(c.after?.['note'], '', 'empty string stays empty');
    assert.equal(c.after?.['email'], 'ada@x');
    assert.equal(u.before?.['name'], 'Ada');
    assert.equal(u.after?.['email'], null, 'NULL stays null');
    assert.equal(d.after, null);
    assert.equal(d.before?.['name'], 'Ada L');
    assert.deepEqual(users[0]!.key, { id: 1000 });
    assert.equal(users[0]!.message.headers['origin'], `legacy:${h.system}`);
    assert.match(users[0]!.message.headers['event-id'] ?? '', new RegExp(`^${h.system}\\.public\\.users:\\d+$`));

    const lines = await events.waitForCount(h.topic('Order Lines'), 4, 60_000);
    assert.deepEqual(lines.map((e) => e.key), [{ OrderNo: 1, LineNo: 1 }, { OrderNo: 1, LineNo: 2 }, { OrderNo: 1, LineNo: 1 }, { OrderNo: 1, LineNo: 2 }]);
    assert.equal(value(lines[0]!).after?.['select'], 'from', 'reserved-word column');
    assert.equal(value(lines[2]!).after?.['qty'], 6);
  });

  it('delivers a transaction that took its id first and committed later, with many short ones in between', async () => {
    const long = await h.db.connect();
    try {
      await long.query('BEGIN');
      await long.query(`INSERT INTO users (id, name) VALUES (5000, 'slow')`);
      for (let i = 0; i < 150; i++) await h.db.exec(`INSERT INTO users (id, name) VALUES ($1, 'fast')`, [5001 + i]);
      await long.query('COMMIT');
    } finally {
      await long.end();
    }
    const ids = await h.db.exec<{ id: number; cl: string }>(
      `SELECT (after->>'id')::int AS id, id::text AS cl FROM sync.public_users_changes WHERE (after->>'id')::int IN (5000, 5150)`,
    );
    assert.ok(Number(ids.find((r) => r.id === 5000)!.cl) < Number(ids.find((r) => r.id === 5150)!.cl), 'the slow row has the lower changelog id');
    await waitFor('all 151 rows', () => {
      const seen = new Set(events.on(h.topic('users')).map((e) => (e.key as { id: number }).id));
      return Array.from({ length: 151 }, (_, i) => 5000 + i).every((id) => seen.has(id));
    }, 30_000);
  });

  it('misses nothing under randomised interleavings of hundreds of concurrent transactions', async () => {
    const ids: number[] = [];
    let next = 10_000;
    const worker = async (w: number): Promise<void> => {
      const client = await h.db.connect();
      try {
        for (let t = 0; t < 40; t++) {
          await client.query('BEGIN');
          const rows = 1 + ((w * 7 + t) % 3);
          for (let r = 0; r < rows; r++) {
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
    const wanted = new Set(ids);
    await waitFor(`all ${wanted.size} rows`, () => {
      const seen = new Set(events.on(h.topic('users')).map((e) => (e.key as { id: number }).id));
      return [...wanted].every((id) => seen.has(id));
    }, 60_000);
    assert.ok(wanted.size >= 320, `${wanted.size} rows in 320 transactions`);
  });

  it('publishes every row of multi-row statements in order, and a primary-key update with its old and new key', async () => {
    await h.db.exec(`INSERT INTO "Order Lines" SELECT 20, g, 'bulk', g FROM generate_series(1, 50) g`);
    await h.db.exec(`UPDATE "Order Lines" SET qty = qty * 10 WHERE "OrderNo" = 20`);
    // Two keys move in one statement, together with plain updates of the other lines.
    await h.db.exec(`UPDATE "Order Lines" SET "LineNo" = CASE WHEN "LineNo" <= 2 THEN "LineNo" + 100 ELSE "LineNo" END, "select" = 'moved?' WHERE "OrderNo" = 20`);
    await h.db.exec(`DELETE FROM "Order Lines" WHERE "OrderNo" = 20 AND "LineNo" BETWEEN 41 AND 50`);
    // A key move is published as a delete of the old key and a create of the new one
    // (docs/primary-key-updates.md): 2 moves give 2 extra records.
    const expected = 50 + 50 + 50 + 2 + 10;
    const lines = await waitFor(`${expected} changes of order 20`, () => {
      const found = events.on(h.topic('Order Lines')).filter((e) => (e.key as { OrderNo: number }).OrderNo === 20);
      return found.length >= expected ? found : undefined;
    }, 60_000);
    assert.equal(lines.length, expected, JSON.stringify(lines.map((e) => [value(e).op, (e.key as { LineNo: number }).LineNo])));
    const byKey = (n: number): Collected[] => lines.filter((e) => (e.key as { LineNo: number }).LineNo === n);
    assert.deepEqual(byKey(7).map((e) => value(e).op), ['c', 'u', 'u']);
    assert.deepEqual(byKey(7).map((e) => value(e).after?.['qty']), [7, 70, 70]);
    assert.deepEqual(byKey(45).map((e) => value(e).op), ['c', 'u', 'u', 'd']);
    for (const [from, to] of [[1, 101], [2, 102]] as const) {
      const old = byKey(from);
      assert.deepEqual(old.map((e) => value(e).op), ['c', 'u', 'd'], `line ${from}`);
      assert.deepEqual(JSON.parse(old[2]!.message.headers['__debezium.newkey'] ?? 'null'), { OrderNo: 20, LineNo: to });
      const moved = byKey(to);
      assert.deepEqual(moved.map((e) => value(e).op), ['c'], `line ${to}`);
      assert.deepEqual(JSON.parse(moved[0]!.message.headers['__debezium.oldkey'] ?? 'null'), { OrderNo: 20, LineNo: from });
      assert.equal(value(moved[0]!).after?.['qty'], from * 10);
      assert.equal(value(moved[0]!).after?.['select'], 'moved?');
    }
  });

  it('does not publish rows the suite wrote itself (origin marker), while other writes flow', async () => {
    const client = await h.db.connect();
    await client.query('BEGIN');
    await client.query(`SELECT set_config('sync.origin', 'svc:orders', true)`);
    await client.query(`INSERT INTO users (id, name) VALUES (7000, 'written by write-back')`);
    await client.query('COMMIT');
    await client.end();
    await h.db.exec(`INSERT INTO users (id, name) VALUES (7001, 'legacy edit')`);
    await waitFor('the legacy edit', () => events.on(h.topic('users')).some((e) => (e.key as { id: number }).id === 7001));
    assert.equal(events.on(h.topic('users')).filter((e) => (e.key as { id: number }).id === 7000).length, 0);
    const metrics = await fetch(h.apps[0]!.url('/metrics')).then((r) => r.text());
    assert.match(metrics, new RegExp(`sync_capture_echo_skipped_total\\{entity="${h.system}.public.users",app="legacy-import"\\} 1`));
  });

  it('purges consumed changelog rows after their retention', async () => {
    const count = async (): Promise<number> => Number((await h.db.exec<{ n: string }>(`SELECT count(*)::text AS n FROM sync.public_users_changes`))[0]!.n);
    assert.ok((await count()) > 0);
    await waitFor('changelog purged', async () => ((await count()) === 0 ? true : undefined), 30_000, 500);
  });

  it('re-snapshots one entity on demand while another keeps streaming', async () => {
    const before = events.on(h.topic('users')).filter((e) => value(e).op === 'r').length;
    const res = await fetch(h.apps[0]!.url(`/admin/entities/${h.system}.public.users/resnapshot`), { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(res.status, 202);
    await h.db.exec(`INSERT INTO "Order Lines" VALUES (2, 1, 'during', 1)`);
    await waitFor('order line during re-snapshot', () => events.on(h.topic('Order Lines')).some((e) => (e.key as { OrderNo: number }).OrderNo === 2));
    const rows = Number((await h.db.exec<{ n: string }>('SELECT count(*)::text AS n FROM users'))[0]!.n);
    await waitFor('a second snapshot of users', () => events.on(h.topic('users')).filter((e) => value(e).op === 'r').length >= before + rows, 60_000);
    const unauthorised = await fetch(h.apps[0]!.url(`/admin/entities/${h.system}.public.users/resnapshot`), { method: 'POST' });
    assert.equal(unauthorised.status, 401);
  });

  it('lets new columns flow without a restart, and stops only the entity whose configured column disappears', async () => {
    await h.db.exec(`ALTER TABLE users ADD COLUMN loyalty_tier text`);
    await h.db.exec(`INSERT INTO users (id, name, loyalty_tier) VALUES (8000, 'new column', 'gold')`);
    const added = await waitFor('row with the new column', () => events.on(h.topic('users')).find((e) => (e.key as { id: number }).id === 8000));
    assert.equal(value(added).after?.['loyalty_tier'], 'gold');

    await h.db.exec(`ALTER TABLE users DROP COLUMN email`);
    await waitFor('readiness names the stopped entity', async () => {
      const res = await fetch(h.apps[0]!.url('/health/ready'));
      const body = JSON.stringify(await res.json());
      return res.status === 503 && body.includes(`${h.system}.public.users`) && body.includes('email') ? true : undefined;
    }, 30_000, 300);
    await h.db.exec(`INSERT INTO "Order Lines" VALUES (3, 1, 'still flowing', 1)`);
    await waitFor('other entity still flows', () => events.on(h.topic('Order Lines')).some((e) => (e.key as { OrderNo: number }).OrderNo === 3));
    const metrics = await fetch(h.apps[0]!.url('/metrics')).then((r) => r.text());
    assert.match(metrics, new RegExp(`sync_capture_entity_stopped\\{entity="${h.system}.public.users",app="legacy-import"\\} 1`));
    assert.ok(h.apps[0]!.isRunning(), 'no crash loop');
  });
});
