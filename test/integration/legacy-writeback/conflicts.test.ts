import assert from 'node:assert/strict';
import { Topics } from '@sync/contracts';
import type { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { describeEachDialect, writebackWaitsOnLock } from './writeback-dialects';
import { WritebackHarness } from './writeback-harness';
import { CONFLICT_POLICIES, CONFLICTS } from './writeback-scenarios';

type Table = keyof typeof CONFLICT_POLICIES;

describeEachDialect('legacy-writeback conflict policies with a concurrent legacy edit', ({ dialect, it, before, after }) => {
  let h: WritebackHarness;
  let collector: TopicCollector;

  before(async () => {
    h = await WritebackHarness.create(dialect, CONFLICTS.ddl[dialect.dialect], CONFLICTS.tables);
    collector = await h.collect(Object.keys(CONFLICT_POLICIES).map((t) => h.legacyTopic(t, dialect.schema)));
    // legacy-import runs too: a write-back that won a conflict must reach the new side again.
    await Promise.all([h.startWriteback(), h.startImporter()]);
  });

  /** The `after` images legacy-import published for a row. */
  const published = (table: Table, id: number): Array<Record<string, unknown>> =>
    collector
      .on(h.legacyTopic(table, dialect.schema))
      .map((c) => (c.value as { after: Record<string, unknown> | null }).after)
      .filter((a): a is Record<string, unknown> => a !== null && Number(a['id']) === id);
  after(async () => h?.close());

  async function lastChange(table: Table): Promise<string> {
    const rows = await h.db.exec<{ id: string }>(`SELECT CAST(MAX(id) AS varchar(30)) AS id FROM ${h.changelog(table)}`);
    return rows[0]!.id;
  }

  /** A legacy row the new side has seen: returns the changelog position of that change. */
  async function seenRow(table: Table, id: number): Promise<string> {
    await h.db.exec(`INSERT INTO ${table} (id, balance, owner) VALUES ($1, 1, 'legacy')`, [id]);
    return lastChange(table);
  }

  /**
   * The legacy application updates the row in an open transaction; the command (based on the
   * earlier change) arrives and the write-back waits on the row lock; then the legacy commits.
   */
  async function concurrentEdit(table: Table, id: number, basedOn: string, occurredAt: string): Promise<{ commandId: string; globalId: string }> {
    const legacy = await h.db.session();
    try {
      await legacy.begin();
      await legacy.query(`UPDATE ${table} SET balance = 2, owner = 'legacy-edit' WHERE id = $1`, [id]);
      const command = h.command(table, 'upsert', { id }, { balance: 99 }, { basedOn, occurredAt });
      await h.send([command]);
      await waitFor('the write-back waiting on the legacy row lock', async () => ((await writebackWaitsOnLock(dialect, h.db)) ? true : undefined));
      await legacy.commit();
      return command;
    } finally {
      await legacy.end();
    }
  }

  async function conflictFor(commandId: string): Promise<Record<string, unknown>> {
    return waitFor(`conflict for ${commandId}`, () => h.mine(collector, Topics.conflicts).find((c) => c['commandId'] === commandId));
  }

  async function balance(table: Table, id: number): Promise<number> {
    await waitFor('command recorded in the inbox', async () => ((await h.db.exec('SELECT 1 FROM sync.inbox WHERE table_name = $1', [table])).length > 0 ? true : undefined));
    return (await h.db.exec<{ balance: number }>(`SELECT balance FROM ${table} WHERE id = $1`, [id]))[0]!.balance;
  }

  it('legacy-wins: skips the command and publishes both versions', async () => {
    const basedOn = await seenRow('acc_lw', 1);
    const cmd = await concurrentEdit('acc_lw', 1, basedOn, new Date().toISOString());
    const conflict = await conflictFor(cmd.commandId);
    assert.equal(await balance('acc_lw', 1), 2);
    assert.equal(conflict['policy'], 'legacy-wins');
    assert.equal(conflict['resolution'], 'skipped');
    assert.equal(conflict['basedOn'], basedOn);
    const legacy = conflict['legacy'] as { row: Record<string, unknown>; position: string };
    assert.deepEqual(legacy.row, { id: 1, balance: 2, owner: 'legacy-edit' });
    assert.ok(BigInt(legacy.position) > BigInt(basedOn));
    assert.deepEqual((conflict['command'] as { columns: unknown }).columns, { balance: 99 });
    const inbox = await h.db.exec<{ outcome: string }>('SELECT outcome FROM sync.inbox WHERE command_id = $1', [cmd.commandId]);
    assert.deepEqual(inbox, [{ outcome: 'skipped-conflict' }]);
    await waitFor('the legacy edit published', () => (published('acc_lw', 1).some((a) => Number(a['balance']) === 2) ? true : undefined));
    assert.equal(published('acc_lw', 1).some((a) => Number(a['balance']) === 99), false, 'nothing of the skipped command');
  });

  it('new-wins: applies the command and publishes the conflict', async () => {
    const basedOn = await seenRow('acc_nw', 1);
    const cmd = await concurrentEdit('acc_nw', 1, basedOn, new Date().toISOString());
    const conflict = await conflictFor(cmd.commandId);
    assert.equal(conflict['resolution'], 'applied');
    await waitFor('new value written', async () => ((await balance('acc_nw', 1)) === 99 ? true : undefined));
    // Partial update: the legacy edit of `owner` survives.
    assert.deepEqual(await h.db.exec('SELECT owner FROM acc_nw WHERE id = 1'), [{ owner: 'legacy-edit' }]);
    // The new side was sent the legacy edit (balance 2) that this write overrode: the write is
    // published like a legacy change, after it, so the new side ends on what legacy holds.
    const images = await waitFor('the winning write-back published after the legacy edit', () => {
      const balances = published('acc_nw', 1).map((a) => Number(a['balance']));
      return balances.at(-1) === 99 ? balances : undefined;
    });
    assert.deepEqual(images, [1, 2, 99]);
  });

  it('last-writer-wins: the later of the legacy commit and the command wins', async () => {
    const basedOnOld = await seenRow('acc_lww', 1);
    const older = await concurrentEdit('acc_lww', 1, basedOnOld, new Date(Date.now() - 3_600_000).toISOString());
    const olderConflict = await conflictFor(older.commandId);
    assert.equal(olderConflict['resolution'], 'skipped');
    assert.equal(await balance('acc_lww', 1), 2);

    const basedOnNew = await seenRow('acc_lww', 2);
    // ce_time a minute ahead (within the clock guard's 5 min): the command competes with its
    // resolved.* Kafka timestamp, which is still later than the legacy transaction.
    const newer = await concurrentEdit('acc_lww', 2, basedOnNew, new Date(Date.now() + 60_000).toISOString());
    const newerConflict = await conflictFor(newer.commandId);
    assert.equal(newerConflict['resolution'], 'applied');
    await waitFor('newer command written', async () => ((await h.db.exec<{ balance: number }>('SELECT balance FROM acc_lww WHERE id = 2'))[0]!.balance === 99 ? true : undefined));
    await waitFor('the winning write-back published', () => (published('acc_lww', 2).some((a) => Number(a['balance']) === 99) ? true : undefined));
    assert.equal(published('acc_lww', 1).some((a) => Number(a['balance']) === 99), false, 'the losing command is not published');
  });

  it('no conflict when the command is based on the latest legacy change', async () => {
    await seenRow('acc_lw', 5);
    await h.db.exec("UPDATE acc_lw SET owner = 'seen' WHERE id = 5");
    const latest = await lastChange('acc_lw');
    const cmd = h.command('acc_lw', 'upsert', { id: 5 }, { balance: 42 }, { basedOn: latest });
    await h.send([cmd]);
    await waitFor('applied', async () => ((await h.db.exec('SELECT 1 FROM sync.inbox WHERE command_id = $1', [cmd.commandId])).length > 0 ? true : undefined));
    assert.deepEqual(await h.db.exec('SELECT balance FROM acc_lw WHERE id = 5'), [{ balance: 42 }]);
    assert.equal(h.mine(collector, Topics.conflicts).some((c) => c['commandId'] === cmd.commandId), false);
  });
});
