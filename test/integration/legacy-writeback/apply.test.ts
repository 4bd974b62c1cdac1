import assert from 'node:assert/strict';
import { Topics } from '@sync/contracts';
import type { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { describeEachDialect } from './writeback-dialects';
import { WritebackHarness } from './writeback-harness';
import { APPLY } from './writeback-scenarios';


describeEachDialect('legacy-writeback applies resolved.* batches to the legacy database', ({ dialect, it, before, after }) => {
  let h: WritebackHarness;
  let collector: TopicCollector;

  before(async () => {
    h = await WritebackHarness.create(dialect, APPLY.ddl[dialect.dialect], APPLY.tables);
    collector = await h.collect();
    await h.startWriteback({ env: { LOG_LEVEL: 'info' } });
  });
  after(async () => h?.close());

  it('upserts, partially updates and deletes rows with composite keys, every write marked with its origin', async () => {
    const inserts = [];
    for (let order = 1; order <= 5; order++) {
      for (let line = 1; line <= 10; line++) inserts.push(h.command('order_lines', 'upsert', { order_id: order, line_no: line }, { sku: `SKU-${order}-${line}`, qty: line, note: 'new' }));
    }
    // Partial update: only qty; sku and note (NOT NULL / existing) keep their values.
    const updates = [1, 2, 3].map((line) => h.command('order_lines', 'upsert', { order_id: 1, line_no: line }, { qty: 100 + line }));
    const deletes = [4, 5].map((line) => h.command('order_lines', 'delete', { order_id: 2, line_no: line }, {}));
    // Same key twice in one stream: upsert then delete then upsert again (re-insert with only sku and qty).
    const again = [
      h.command('order_lines', 'upsert', { order_id: 9, line_no: 1 }, { sku: 'A', qty: 1, note: 'first' }),
      h.command('order_lines', 'delete', { order_id: 9, line_no: 1 }, {}),
      h.command('order_lines', 'upsert', { order_id: 9, line_no: 1 }, { sku: 'B', qty: 2 }),
    ];
    const all = [...inserts, ...updates, ...deletes, ...again];
    await h.send(all);
    await waitFor('all commands in the inbox', async () => ((await h.inboxCount()) >= all.length ? true : undefined), 60_000, 200);

    const rows = await h.db.exec<{ order_id: number; line_no: number; sku: string; qty: number; note: string | null }>(
      'SELECT order_id, line_no, sku, qty, note FROM order_lines ORDER BY order_id, line_no',
    );
    assert.equal(rows.length, 50 - 2 + 1);
    assert.deepEqual(
      rows.filter((r) => r.order_id === 1 && r.line_no <= 3).map((r) => [r.sku, r.qty, r.note]),
      [
        ['SKU-1-1', 101, 'new'],
        ['SKU-1-2', 102, 'new'],
        ['SKU-1-3', 103, 'new'],
      ],
    );
    assert.equal(rows.some((r) => r.order_id === 2 && (r.line_no === 4 || r.line_no === 5)), false);
    assert.deepEqual(rows.find((r) => r.order_id === 9), { order_id: 9, line_no: 1, sku: 'B', qty: 2, note: null });
    const origins = await h.db.exec<{ origin: string | null; n: string }>(`SELECT origin, CAST(COUNT(*) AS varchar(20)) AS n FROM ${h.changelog('order_lines')} GROUP BY origin`);
    assert.deepEqual(origins, [{ origin: 'svc:orders', n: String(origins[0]!.n) }], 'every changelog row carries the command origin');
  });

  it('inserts rows whose key the database generates and publishes each key to idmap.links', async () => {
    const commands = Array.from({ length: 30 }, (_, i) => h.command('customers', 'upsert', {}, { name: `customer-${i}`, email: `c${i}@example.com` }));
    await h.send(commands);
    const links = await waitFor('30 links', () => {
      const mine = h.mine(collector, Topics.idmapLinks).filter((l) => l['table'] === 'customers');
      return mine.length >= 30 ? mine : undefined;
    });
    const rows = await h.db.exec<{ id: number; name: string }>('SELECT id, name FROM customers');
    const byName = new Map(rows.map((r) => [r.name, r.id]));
    for (const [i, c] of commands.entries()) {
      const link = links.find((l) => l['globalId'] === c.globalId);
      assert.ok(link, `link for ${c.globalId}`);
      assert.deepEqual(link['key'], { id: byName.get(`customer-${i}`) });
      assert.equal(link['commandId'], c.commandId);
    }
    assert.equal(rows.length, 30);
  });

  it('dead-letters a poison command with the database error and applies the rest of its batch', async () => {
    const good = h.command('order_lines', 'upsert', { order_id: 50, line_no: 1 }, { sku: 'OK', qty: 1 });
    const badColumn = h.command('order_lines', 'upsert', { order_id: 50, line_no: 2 }, { sku: 'X', qty: 'many' });
    const good2 = h.command('order_lines', 'upsert', { order_id: 50, line_no: 3 }, { sku: 'OK', qty: 3 });
    await h.send([good, badColumn, good2]);
    await h.sendRaw(h.resolvedTopic('order_lines'), '{"not":"a command"}');
    const dlq = await waitFor('two dead letters', () => {
      const items = collector.on(Topics.dlq('legacy-writeback')).filter((i) => i.message.headers['dlq-source-topic'] === h.resolvedTopic('order_lines'));
      return items.length >= 2 ? items : undefined;
    });
    const reasons = dlq.map((d) => d.message.headers['dlq-reason'] ?? '');
    assert.ok(reasons.some((r) => dialect.errors.invalidInteger.test(r)), reasons.join(' | '));
    assert.ok(reasons.some((r) => /commandId|op/.test(r)), reasons.join(' | '));
    const rows = await h.db.exec('SELECT line_no FROM order_lines WHERE order_id = 50 ORDER BY line_no');
    assert.deepEqual(rows, [{ line_no: 1 }, { line_no: 3 }]);
  });

  it('dead-letters a command whose ce_time is in 2099 (clock guard), naming ce_time and the limit, and applies the rest of its batch', async () => {
    const future = h.command('order_lines', 'upsert', { order_id: 60, line_no: 1 }, { sku: 'FUTURE', qty: 1 }, { occurredAt: '2099-01-01T00:00:00.000Z' });
    const now = h.command('order_lines', 'upsert', { order_id: 60, line_no: 2 }, { sku: 'NOW', qty: 2 });
    await h.send([future, now]);
    const dead = await waitFor('the 2099 command dead-lettered', () =>
      collector.on(Topics.dlq('legacy-writeback')).find((i) => (i.value as { commandId?: string } | null)?.commandId === future.commandId),
    );
    assert.equal(dead.message.headers['dlq-error-kind'], 'data');
    assert.match(dead.message.headers['dlq-reason'] ?? '', /ce_time \(occurredAt\) 2099-01-01T00:00:00\.000Z is more than 300000 ms ahead .*maxClockSkewMs/);
    await waitFor('the other command applied', async () => ((await h.db.exec('SELECT 1 FROM order_lines WHERE order_id = 60 AND line_no = 2')).length === 1) || undefined);
    assert.deepEqual(await h.db.exec('SELECT line_no FROM order_lines WHERE order_id = 60'), [{ line_no: 2 }], 'the 2099 row is not written');
  });

  it('retries a foreign-key violation, then parks the command without blocking the partition', async () => {
    const orphan = h.command('orders', 'upsert', { id: 1 }, { customer_id: 999_999, total: '10.00' });
    const fine = h.command('orders', 'upsert', { id: 2 }, { customer_id: (await h.db.exec<{ id: number }>('SELECT min(id) AS id FROM customers'))[0]!.id, total: '5.50' });
    await h.send([orphan, fine]);
    await waitFor('the orphan parked', async () => {
      const parked = await h.db.exec<{ command_id: string; reason: string }>('SELECT command_id, reason FROM sync.writeback_parked');
      return parked.length === 1 ? parked : undefined;
    }, 60_000, 200);
    const parked = await h.db.exec<{ command_id: string; reason: string }>('SELECT command_id, reason FROM sync.writeback_parked');
    assert.equal(parked[0]!.command_id, orphan.commandId);
    assert.match(parked[0]!.reason, dialect.errors.foreignKey);
    const orders = await h.db.exec('SELECT id FROM orders ORDER BY id');
    assert.deepEqual(orders, [{ id: 2 }]);
  });
});
