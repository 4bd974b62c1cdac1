import assert from 'node:assert/strict';
import type { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { describeEachDialect } from './writeback-dialects';
import { WritebackHarness } from './writeback-harness';
import { ECHO } from './writeback-scenarios';

describeEachDialect('legacy-writeback: no echo through legacy-import', ({ dialect, it, before, after }) => {
  let h: WritebackHarness;
  let collector: TopicCollector;

  before(async () => {
    h = await WritebackHarness.create(dialect, ECHO.ddl[dialect.dialect], ECHO.tables);
    collector = await h.collect([h.legacyTopic('items')]);
    await Promise.all([h.startWriteback(), h.startImporter()]);
  });
  after(async () => h?.close());

  it('publishes the concurrent legacy edits and none of the rows the write-back wrote', async () => {
    const commands = Array.from({ length: 40 }, (_, i) => h.command('items', 'upsert', { id: i + 1 }, { name: `from-new-side-${i + 1}` }));
    await Promise.all([h.send(commands), h.db.exec("INSERT INTO items (id, name) VALUES (1000, 'legacy edit during write-back')")]);
    await waitFor('write-back applied everything', async () => ((await h.inboxCount()) === 40 ? true : undefined), 60_000, 200);
    await h.db.exec("UPDATE items SET name = 'legacy edit of a written row' WHERE id = 7");
    // Changes are published in changelog order: once this edit is out, the write-back's rows were read before it.
    const events = await waitFor('both legacy edits published', () => {
      const items = collector.on(h.legacyTopic('items'));
      return items.some((i) => (i.value as { after: { name: string } | null }).after?.name === 'legacy edit of a written row') ? items : undefined;
    }, 60_000);
    const published = events.map((e) => (e.value as { after: { id: number; name: string } }).after);
    assert.deepEqual(
      published.map((r) => r.name),
      ['legacy edit during write-back', 'legacy edit of a written row'],
    );
    const logged = await h.db.exec<{ n: string }>(`SELECT CAST(COUNT(*) AS varchar(20)) AS n FROM ${h.changelog('items')} WHERE origin = 'svc:orders'`);
    assert.equal(logged[0]!.n, '40', 'the write-back rows were captured, marked with their origin');
  });
});
