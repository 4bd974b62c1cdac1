import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Topics } from '@sync/contracts';
import type { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { postgresDialect, writebackWaitsOnLock } from './writeback-dialects';
import { WritebackHarness } from './writeback-harness';

const TABLES = `      - name: kv
        key: [k]
        capture: { mode: trigger }
      - name: other
        key: [k]
        capture: { mode: trigger }
`;

/**
 * SIGTERM (a Kubernetes rollout) while a write-back batch is inside its transaction. The batch is
 * held there by a row lock the test owns, so the stop always lands mid-batch; a second command,
 * on another topic, is sent after the signal: a consumer still fetching once the pools began to
 * close would fail it with "Cannot use a pool after calling end on the pool" and dead-letter it.
 */
describe('legacy-writeback stopped by SIGTERM during a batch', () => {
  let h: WritebackHarness;
  let collector: TopicCollector;

  before(async () => {
    h = await WritebackHarness.create(postgresDialect, ['CREATE TABLE kv (k int PRIMARY KEY, v int NOT NULL)', 'CREATE TABLE other (k int PRIMARY KEY, v int NOT NULL)'], TABLES);
    collector = await h.collect();
    await h.db.exec('INSERT INTO kv (k, v) VALUES (1, 0)');
  });
  after(async () => h?.close());

  it('finishes and commits the batch in flight, dead-letters nothing, and the restarted app applies it exactly once', async () => {
    const app = await h.startWriteback({ env: { LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '60000' } });
    // Warm-up: both topics assigned and consumed before the lock is taken.
    await h.send([h.command('other', 'upsert', { k: 1 }, { v: 1 }), h.command('kv', 'upsert', { k: 2 }, { v: 2 })]);
    await waitFor('warm-up applied', async () => ((await h.inboxCount()) === 2 ? true : undefined), 60_000, 100);

    const lock = await h.db.session();
    try {
      await lock.begin();
      await lock.query('SELECT v FROM kv WHERE k = 1 FOR UPDATE');
      const inFlight = h.command('kv', 'upsert', { k: 1 }, { v: 42 });
      await h.send([inFlight]);
      await waitFor('the write-back batch waiting for the row lock', () => writebackWaitsOnLock(postgresDialect, h.db), 60_000, 50);

      app.proc.kill('SIGTERM');
      await waitFor('the app shutting down', () => app.logs().includes('"shutting down"'), 10_000, 20);
      const afterSignal = h.command('other', 'upsert', { k: 2 }, { v: 7 });
      await h.send([afterSignal]);
      // Fixed code: the consumers are told to stop before anything else closes. Before the fix the
      // pools ended first while the consumer went on fetching: the command sent after the signal
      // failed on the ended pool. The lock is released once either is visible (or after 20 s, so
      // the assertions below report what happened).
      await waitFor(
        'consumers stopping (or the command sent after the signal failing)',
        () => app.logs().includes('stopping consumers') || h.mine(collector, Topics.dlq('legacy-writeback')).length > 0 || app.logs().includes('calling end on the pool'),
        20_000,
        50,
      ).catch(() => undefined);
      await lock.commit();

      const code = await app.waitExit(60_000);
      assert.equal(code, 0, `clean exit; logs:\n${app.logs().slice(-3000)}`);
      assert.deepEqual(h.mine(collector, Topics.dlq('legacy-writeback')), [], 'nothing dead-lettered during the stop');
      // The batch in flight finished before the exit.
      assert.deepEqual(await h.db.exec('SELECT v FROM kv WHERE k = 1'), [{ v: 42 }]);

      const restarted = await h.startWriteback({ env: { LOG_LEVEL: 'info' } });
      await waitFor('the command sent after the signal applied after the restart', async () => ((await h.inboxCount()) === 4 ? true : undefined), 60_000, 100);
      assert.deepEqual(await h.db.exec('SELECT k, v FROM other ORDER BY k'), [{ k: 1, v: 1 }, { k: 2, v: 7 }]);
      assert.deepEqual(await h.db.exec('SELECT CAST(COUNT(*) AS int) AS n FROM sync.inbox WHERE command_id = $1', [inFlight.commandId]), [{ n: 1 }], 'the command in flight recorded once');
      // Its offset was committed before the exit: the restarted app does not see it again.
      const metrics = await (await fetch(restarted.url('/metrics'))).text();
      assert.doesNotMatch(metrics, /^sync_writeback_inbox_hits_total\{[^}]*\} [1-9]/m, 'no command redelivered after the restart');
      assert.deepEqual(h.mine(collector, Topics.dlq('legacy-writeback')), [], 'nothing dead-lettered after the restart');
    } finally {
      await lock.end().catch(() => undefined);
    }
  });
});
