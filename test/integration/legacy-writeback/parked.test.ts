import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { Topics } from '@sync/contracts';
import type { AppProcess } from '../../support/app-process';
import type { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { describeEachDialect } from './writeback-dialects';
import { WritebackHarness } from './writeback-harness';
import { PARKED } from './writeback-scenarios';

type ParkedRow = { command_id: string; reason: string };

describeEachDialect('legacy-writeback releases parked commands', ({ dialect, it, before, after }) => {
  let h: WritebackHarness;
  let collector: TopicCollector;
  let app: AppProcess;

  before(async () => {
    h = await WritebackHarness.create(dialect, PARKED.ddl[dialect.dialect], PARKED.tables);
    await h.db.exec(`INSERT INTO customers VALUES (1, 'Ada')`);
    // Short limits so the test sees a release round and an expiry within seconds.
    appendFileSync(h.pipelineFile, 'legacyWriteback: { foreignKeyAttempts: 2, parkedRetryMs: 1000, parkTimeoutMs: 15000 }\n');
    collector = await h.collect();
    app = await h.startWriteback();
  });
  after(async () => h?.close());

  const parkedRows = (): Promise<ParkedRow[]> => h.db.exec<ParkedRow>('SELECT command_id, reason FROM sync.writeback_parked ORDER BY parked_at');

  it('parks later commands for the same row behind a parked one and applies them in order once the parent exists', async () => {
    const first = h.command('orders', 'upsert', { id: 10 }, { customer_id: 77, total: '10.00' });
    const second = h.command('orders', 'upsert', { id: 10 }, { total: '20.00' }, { globalId: first.globalId });
    const unrelated = h.command('orders', 'upsert', { id: 11 }, { customer_id: 1, total: '5.00' });
    await h.send([first]);
    await waitFor('the first command parked', async () => ((await parkedRows()).length === 1 ? true : undefined), 60_000, 200);
    await h.send([second, unrelated]);
    const parked = await waitFor('the second command parked behind it', async () => {
      const rows = await parkedRows();
      return rows.length === 2 ? rows : undefined;
    }, 60_000, 200);
    assert.deepEqual(parked.map((p) => p.command_id), [first.commandId, second.commandId]);
    assert.match(parked[0]!.reason, dialect.errors.foreignKey);
    assert.match(parked[1]!.reason, /waiting behind an earlier parked command/);
    await waitFor('the unrelated order applied', async () => ((await h.db.exec('SELECT 1 FROM orders WHERE id = 11')).length === 1 ? true : undefined), 30_000, 200);

    // The parent arrives (here written by a legacy user): the next release round applies both, in order.
    await h.db.exec(`INSERT INTO customers VALUES (77, 'Grace')`);
    await waitFor('parked commands released', async () => ((await parkedRows()).length === 0 ? true : undefined), 60_000, 200);
    const [order] = await h.db.exec<{ customer_id: number; total: string | number }>('SELECT customer_id, total FROM orders WHERE id = 10');
    assert.deepEqual([order?.customer_id, Number(order?.total)], [77, 20]);
    const inbox = await h.db.exec<{ command_id: string }>('SELECT command_id FROM sync.inbox WHERE command_id IN ($1, $2)', [first.commandId, second.commandId]);
    assert.equal(inbox.length, 2, 'both released commands are recorded in the inbox');
    const metrics = await (await fetch(app.url('/metrics'))).text();
    assert.match(metrics, /sync_writeback_parked_released_total\{[^}]*\} 2/);

    // Once released, a new command for that row is applied directly, not parked.
    await h.send([h.command('orders', 'upsert', { id: 10 }, { total: '30.00' }, { globalId: first.globalId })]);
    await waitFor('a later command applied directly', async () => (Number((await h.db.exec<{ total: string | number }>('SELECT total FROM orders WHERE id = 10'))[0]?.total) === 30 ? true : undefined), 30_000, 200);
    assert.equal((await parkedRows()).length, 0);
  });

  it('dead-letters a command parked longer than parkTimeoutMs, with the reason', async () => {
    const orphan = h.command('orders', 'upsert', { id: 20 }, { customer_id: 88, total: '1.00' });
    await h.send([orphan]);
    await waitFor('the orphan parked', async () => ((await parkedRows()).some((p) => p.command_id === orphan.commandId) ? true : undefined), 60_000, 200);
    const dead = await waitFor('the orphan dead-lettered after its park timeout', () =>
      collector.on(Topics.dlq('legacy-writeback')).find((i) => (i.value as { commandId?: string } | null)?.commandId === orphan.commandId),
      90_000, 250,
    );
    assert.match(dead.message.headers['dlq-reason'] ?? '', /parked for more than 15000 ms and the foreign-key target is still missing/);
    assert.equal(dead.message.headers['dlq-source-topic'], h.resolvedTopic('orders'));
    await waitFor('the parked table empty again', async () => ((await parkedRows()).length === 0 ? true : undefined), 30_000, 200);
    assert.equal((await h.db.exec('SELECT 1 FROM orders WHERE id = 20')).length, 0);
  });
});
