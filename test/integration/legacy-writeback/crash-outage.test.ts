import assert from 'node:assert/strict';
import { Topics } from '@sync/contracts';
import type { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { describeEachDialect } from './writeback-dialects';
import { WritebackHarness } from './writeback-harness';
import { CRASH_OUTAGE } from './writeback-scenarios';

describeEachDialect('legacy-writeback under kill -9 and a database outage', ({ dialect, it, before, after }) => {
  let h: WritebackHarness;
  let collector: TopicCollector;

  before(async () => {
    h = await WritebackHarness.create(dialect, CRASH_OUTAGE.ddl[dialect.dialect], CRASH_OUTAGE.tables);
    collector = await h.collect();
  });
  after(async () => h?.close());

  it('kill -9 at random moments (including between database commit and offset commit): no duplicate rows, generated keys re-published identically', async (t) => {
    const inserts = Array.from({ length: 3000 }, (_, i) => h.command('events', 'upsert', {}, { payload: `p${i}` }));
    for (const c of inserts) (c.columns as Record<string, unknown>)['gid'] = c.globalId;
    // One global id per row, as id-translation keys them: commands for a row share a partition.
    const upserts = Array.from({ length: 1000 }, (_, i) => h.command('kv', 'upsert', { k: i % 200 }, { v: i }, { globalId: `kv-${h.system}-${i % 200}` }));
    const total = inserts.length + upserts.length;
    let app = await h.startWriteback();
    let kills = 0;
    let inboxHits = 0;
    let sent = 0;
    const allCommands = inserts.flatMap((c, i) => (i % 3 === 0 ? [c, upserts[i / 3]!] : [c]));
    // One connection polled in a tight loop: the kill must land within milliseconds of a commit.
    const probe = await h.db.session();
    const inbox = async (): Promise<number> => Number((await probe.query<{ n: string }>('SELECT CAST(COUNT(*) AS varchar(20)) AS n FROM sync.inbox'))[0]!.n);
    const inboxEvents = async (): Promise<number> =>
      Number((await probe.query<{ n: string }>("SELECT CAST(COUNT(*) AS varchar(20)) AS n FROM sync.inbox WHERE table_name = 'events'"))[0]!.n);
    try {
      while (kills < 6 && inboxHits === 0) {
        if (sent < allCommands.length) {
          await h.send(allCommands.slice(sent, sent + 1000));
          sent += 1000;
        }
        if ((await inbox()) >= total) break;
        const start = await inboxEvents();
        // Kill the moment the inbox grows: that batch's transaction has just committed and its
        // results and offset commit are at most milliseconds behind.
        await waitFor('the write-back committing a batch of inserts', async () => ((await inboxEvents()) > start ? true : undefined), 60_000, 0);
        await app.stop('SIGKILL');
        kills++;
        const atKill = await inbox();
        app = await h.startWriteback();
        const restarted = app;
        await waitFor('the restarted write-back making progress', async () => ((await inbox()) > atKill || atKill >= Math.min(sent, total) ? true : undefined), 120_000, 100).catch(
          (err: unknown) => {
            throw new Error(`${(err as Error).message}; inbox ${atKill}/${Math.min(sent, total)}; logs:\n${restarted.logs().slice(-4000)}`);
          },
        );
        // Redelivered commands found in the inbox show that the kill fell between the two commits.
        const metrics = await (await fetch(app.url('/metrics'))).text();
        inboxHits = [...metrics.matchAll(/^sync_writeback_inbox_hits_total\{[^}]*entity="[^"]*\.events"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
      }
    } finally {
      await probe.end();
    }
    if (sent < allCommands.length) await h.send(allCommands.slice(sent));
    await waitFor(`all ${total} commands applied`, async () => ((await h.inboxCount()) === total ? true : undefined), 180_000, 250);

    const rows = await h.db.exec<{ id: string; gid: string }>('SELECT CAST(id AS varchar(30)) AS id, gid FROM events');
    assert.equal(rows.length, inserts.length, 'one row per insert command');
    assert.equal(new Set(rows.map((r) => r.gid)).size, inserts.length, 'no duplicate rows');
    const kv = await h.db.exec<{ k: number; v: number }>('SELECT k, v FROM kv ORDER BY k');
    assert.equal(kv.length, 200);
    // The last command per key wins (one partition per key: order kept across restarts).
    for (const row of kv) assert.equal(row.v, 800 + row.k);

    const idOf = new Map(rows.map((r) => [r.gid, Number(r.id)]));
    const links = await waitFor('a link per generated key', () => {
      const mine = h.mine(collector, Topics.idmapLinks);
      return new Set(mine.map((l) => l['globalId'])).size >= inserts.length ? mine : undefined;
    }, 60_000);
    for (const link of links) assert.deepEqual(link['key'], { id: idOf.get(link['globalId'] as string) }, `link ${String(link['globalId'])} matches the row`);
    const republished = links.length - inserts.length;
    assert.equal(new Set(links.map((l) => l['globalId'])).size, inserts.length, 'a link for every generated key');
    t.diagnostic(`kills: ${kills}; inbox hits on events after the last restart: ${inboxHits}; links re-published: ${republished}`);
    assert.ok(inboxHits > 0, `no kill landed between a database commit and its offset commit in ${kills} attempts`);
    // The redelivered inserts were not inserted again (row count above) and every one of them has
    // its link (checked above) with the key of its one row: from the first send if it completed
    // before the kill (then the re-published copy is identical), from the re-publication if not.
  });

  it('database unreachable for 20 s mid-stream: readiness red, then everything applied', async () => {
    const app = await h.startWriteback({ viaProxy: true });
    const base = await h.inboxCount();
    const first = Array.from({ length: 300 }, (_, i) => h.command('kv', 'upsert', { k: 10_000 + i }, { v: 1 }));
    await h.send(first);
    await waitFor('some commands applied', async () => ((await h.inboxCount()) > base ? true : undefined), 60_000, 50);
    h.dbProxy().cut();
    const second = Array.from({ length: 300 }, (_, i) => h.command('kv', 'upsert', { k: 20_000 + i }, { v: 2 }));
    await h.send(second);
    await waitFor('readiness red', async () => ((await app.status('/health/ready')) === 503 ? true : undefined), 30_000, 200);
    // The outage lasts 20 s; readiness must stay red throughout.
    const outageEnd = Date.now() + 20_000;
    while (Date.now() < outageEnd) {
      assert.equal(await app.status('/health/ready'), 503);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    h.dbProxy().restore();
    await waitFor('readiness green again', async () => ((await app.status('/health/ready')) === 200 ? true : undefined), 60_000, 200);
    await waitFor('everything applied', async () => ((await h.inboxCount()) === base + 600 ? true : undefined), 60_000, 200);
    const rows = await h.db.exec<{ n: string }>('SELECT CAST(COUNT(*) AS varchar(20)) AS n FROM kv WHERE k >= 10000');
    assert.equal(rows[0]!.n, '600');
    assert.ok(app.isRunning());
  });
});
