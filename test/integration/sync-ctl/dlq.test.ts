import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Topics, type WritebackCommand } from '@sync/contracts';
import { postgresDialect } from '../legacy-writeback/writeback-dialects';
import { WritebackHarness } from '../legacy-writeback/writeback-harness';
import { repoRoot, testBrokers } from '../../support/test-env';
import type { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';

const run = promisify(execFile);

interface Listed {
  id: string;
  key: string | null;
  reason: string;
  sourceTopic: string;
  replayCount: number;
}

describe('sync-ctl dlq: a dead-lettered write-back command, replayed after the cause is fixed, is applied exactly once', () => {
  let h: WritebackHarness;
  let collector: TopicCollector;

  async function syncCtl(args: string[], brokers = testBrokers().join(',')): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [path.join(repoRoot, 'dist', 'apps', 'sync-ctl', 'src', 'main.js'), ...args], {
        env: { PATH: process.env['PATH'] ?? '', PIPELINE_FILE: h.pipelineFile, KAFKA_BROKERS: brokers, LEGACY_DATABASE_URL: h.db.url },
        timeout: 90_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  async function list(...filters: string[]): Promise<Listed[]> {
    const res = await syncCtl(['dlq', 'list', '--app', 'legacy-writeback', '--json', ...filters]);
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as Listed[];
  }

  const deadLettersOf = (c: WritebackCommand) => collector.on(Topics.dlq('legacy-writeback')).filter((i) => i.message.key?.toString() === c.globalId);

  async function appliedInOrder(sentinel: WritebackCommand): Promise<void> {
    // One partition: once the sentinel sent after a replay is applied, the replayed command was processed.
    await h.send([sentinel]);
    await waitFor('sentinel applied', async () => (await h.db.exec('SELECT 1 FROM items WHERE id = $1', [sentinel.key['id']])).length === 1, 60_000, 200);
  }

  const changelogRows = async (id: number): Promise<number> =>
    Number((await h.db.exec<{ n: string }>(`SELECT count(*)::text AS n FROM ${h.changelog('items')} WHERE COALESCE("after", "before") ->> 'id' = $1`, [String(id)]))[0]!.n);
  const inboxRows = async (commandId: string): Promise<number> => Number((await h.db.exec<{ n: string }>('SELECT count(*)::text AS n FROM sync.inbox WHERE command_id = $1', [commandId]))[0]!.n);

  before(async () => {
    h = await WritebackHarness.create(
      postgresDialect,
      ['CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL CONSTRAINT items_qty_positive CHECK (qty > 0))'],
      `      - name: items\n        key: [id]\n        capture: { mode: trigger }\n`,
    );
    collector = await h.collect();
    await h.startWriteback();
  });
  after(async () => h?.close());

  it('rejects bad arguments with exit code 2 before connecting to Kafka, naming the argument', async () => {
    const unreachable = '127.0.0.1:1';
    const cases: Array<[string[], RegExp]> = [
      [['dlq', 'list', '--since', 'yesterday'], /--since yesterday/],
      [['dlq', 'list', '--app', 'nope'], /--app nope/],
      [['dlq', 'list', '--entity', 'users'], /--entity users/],
      [['dlq', 'list', '--bogus'], /bogus/],
      [['dlq', 'show', 'dlq.legacy-writeback/x/1'], /dlq\.legacy-writeback\/x\/1/],
      [['dlq', 'replay'], /--all/],
      [['dlq', 'replay', '--all', '--max-replays', '0'], /--max-replays 0/],
      [['dlq', 'purge', '--app', 'legacy-writeback', '--all'], /--yes/],
      [['dlq', 'purge', '--until', '1h', '--yes'], /--app/],
    ];
    for (const [args, message] of cases) {
      const started = Date.now();
      const res = await syncCtl(args, unreachable);
      assert.equal(res.code, 2, `${args.join(' ')}: exit ${res.code} ${res.stderr}`);
      assert.match(res.stderr, message, args.join(' '));
      assert.doesNotMatch(res.stderr, /unknown command/, args.join(' '));
      // kafkajs would retry the unreachable broker for far longer than this before giving up
      assert.ok(Date.now() - started < 20_000, `${args.join(' ')} took ${Date.now() - started} ms`);
    }
    const help = await syncCtl(['dlq', 'replay', '--help'], unreachable);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--max-replays/);
  });

  it('lists, shows, dry-runs, replays once the constraint is relaxed, dedups a second replay and refuses a loop', async () => {
    const started = new Date().toISOString();
    const tooFew = h.command('items', 'upsert', { id: 1 }, { name: 'widget', qty: -1 });
    const noName = h.command('items', 'upsert', { id: 2 }, { name: null, qty: 5 });
    await h.send([tooFew, noName]);
    await waitFor('two dead letters', () => deadLettersOf(tooFew).length === 1 && deadLettersOf(noName).length === 1, 60_000, 200);

    // list + filters
    const listed = await list('--key', tooFew.globalId);
    assert.equal(listed.length, 1);
    assert.match(listed[0]!.reason, /items_qty_positive/);
    assert.equal(listed[0]!.sourceTopic, h.resolvedTopic('items'));
    assert.equal(listed[0]!.replayCount, 0);
    assert.deepEqual((await list('--entity', `${h.system}.public.items`, '--reason', 'ITEMS_QTY_POSITIVE')).map((d) => d.key), [tooFew.globalId]);
    assert.deepEqual((await list('--entity', `${h.system}.public.items`, '--since', started)).map((d) => d.key).sort(), [tooFew.globalId, noName.globalId].sort());
    assert.deepEqual(await list('--entity', `${h.system}.public.items`, '--until', started), []);
    assert.deepEqual(await list('--entity', `${h.system}.public.other`), []);
    const table = await syncCtl(['dlq', 'list', '--app', 'legacy-writeback', '--key', tooFew.globalId]);
    assert.match(table.stdout, new RegExp(listed[0]!.id.replaceAll('.', '\\.')));

    // show
    const shown = await syncCtl(['dlq', 'show', listed[0]!.id, '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    const full = JSON.parse(shown.stdout) as { headers: Record<string, string>; value: WritebackCommand };
    assert.equal(full.value.commandId, tooFew.commandId);
    assert.equal(full.headers['dlq-app'], 'legacy-writeback');
    assert.equal((await syncCtl(['dlq', 'show', 'dlq.legacy-writeback/0/999999999'])).code, 1);

    // dry run publishes nothing
    const dry = await syncCtl(['dlq', 'replay', '--app', 'legacy-writeback', '--key', tooFew.globalId, '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal((JSON.parse(dry.stdout) as { replayed: unknown[] }).replayed.length, 1);
    await appliedInOrder(h.command('items', 'upsert', { id: 100 }, { name: 'sentinel', qty: 1 }));
    assert.equal(await changelogRows(1), 0, 'a dry run applied the command');

    // fix the cause, replay: applied once
    await h.db.exec('ALTER TABLE items DROP CONSTRAINT items_qty_positive');
    const replay = await syncCtl(['dlq', 'replay', '--app', 'legacy-writeback', '--key', tooFew.globalId, '--json']);
    assert.equal(replay.code, 0, replay.stderr);
    await waitFor('replayed command applied', async () => (await h.db.exec('SELECT name, qty FROM items WHERE id = 1')).length === 1, 60_000, 200);
    assert.deepEqual(await h.db.exec('SELECT name, qty FROM items WHERE id = 1'), [{ name: 'widget', qty: -1 }]);
    assert.equal(await inboxRows(tooFew.commandId), 1);

    // replaying the same dead letter again: the inbox makes it a no-op
    const again = await syncCtl(['dlq', 'replay', '--app', 'legacy-writeback', '--key', tooFew.globalId]);
    assert.equal(again.code, 0, again.stderr);
    await appliedInOrder(h.command('items', 'upsert', { id: 101 }, { name: 'sentinel', qty: 1 }));
    assert.equal(await changelogRows(1), 1, 'the replayed command was written twice');
    assert.equal(await inboxRows(tooFew.commandId), 1);
    assert.equal(deadLettersOf(tooFew).length, 1);

    // a cause not fixed: replayed once, it fails again; the loop guard refuses both dead letters
    const first = await syncCtl(['dlq', 'replay', '--app', 'legacy-writeback', '--key', noName.globalId, '--max-replays', '1', '--json']);
    assert.equal(first.code, 0, first.stderr);
    const second = await waitFor('the replayed command dead-lettered again', () => deadLettersOf(noName)[1], 60_000, 200);
    assert.equal(second.message.headers['dlq-replay-count'], '1');
    assert.equal(second.message.headers['dlq-replayed-from'], (await list('--key', noName.globalId))[0]!.id);
    const guarded = await syncCtl(['dlq', 'replay', '--app', 'legacy-writeback', '--key', noName.globalId, '--max-replays', '1', '--json']);
    assert.equal(guarded.code, 1, guarded.stderr);
    const report = JSON.parse(guarded.stdout) as { replayed: unknown[]; refused: Array<{ id: string; reason: string }> };
    assert.equal(report.replayed.length, 0);
    assert.deepEqual(report.refused.map((r) => r.reason.replace(/ as .*| \(.*/, '')).sort(), ['replayed 1 times already', 'replayed already and failed again'].sort());
    assert.equal((await h.db.exec('SELECT 1 FROM items WHERE id = 2')).length, 0);

    // purge dry run: the plan, nothing deleted (the DLQ topics are shared with other tests)
    const purge = await syncCtl(['dlq', 'purge', '--app', 'legacy-writeback', '--until', '2000-01-01T00:00:00Z', '--dry-run', '--json']);
    assert.equal(purge.code, 0, purge.stderr);
    assert.equal((JSON.parse(purge.stdout) as { deleted: number }).deleted, 0);
  });
});
