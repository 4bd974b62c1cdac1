import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import { DataError } from '@sync/errors';
import { snapshotRecord, snapshotRecords } from '../../../apps/legacy-import/src/change-record.builder';

const PIPELINE = parsePipeline(
  `
version: 1
systems:
  shop:
    dialect: postgres
    connection: { host: db, database: shop }
    tables:
      - name: order line
        schema: stock
        key: [order_id, line]
`,
  'unit.yaml',
);
const TABLE = PIPELINE.systems.get('shop')!.tables[0]!;
const NOW = Date.parse('2026-03-04T05:06:07.089Z');

const ROWS: Array<Record<string, unknown>> = [
  { order_id: 1, line: 1, name: 'plain', amount: '12.50', at: '2024-01-01T00:00:01+00:00', ok: true },
  { line: 2, order_id: 1, name: 'quote " backslash \\ newline \n tab \t', amount: null, ok: false },
  { order_id: 'A-7', line: 3, name: 'ünïcödé ✓ 𝄞 \u2028', doc: { nested: [1, '2', null], 'k"ey': true } },
  { order_id: 2, name: 'key column missing: null in the key' },
  { order_id: 3, line: 1, gone: undefined, n: 1.5e300, small: -0 },
];

describe('legacy-import: snapshot records of a chunk', () => {
  it('are byte for byte the records snapshotRecord gives for each row (key, value, headers, topic)', () => {
    const chunk = snapshotRecords(TABLE, 'snap-1', ROWS, NOW);
    assert.equal(chunk.length, ROWS.length);
    ROWS.forEach((row, i) => {
      const one = snapshotRecord(TABLE, 'snap-1', row, NOW);
      assert.deepEqual(chunk[i]!.record, one, `row ${i}`);
      assert.equal(chunk[i]!.record.value, one.value, `row ${i}: same bytes`);
    });
  });

  it('carry the position and the key a dead letter needs', () => {
    const [first] = snapshotRecords(TABLE, 'snap-1', ROWS.slice(0, 1), NOW);
    assert.equal(first!.position, 'snapshot:snap-1:{"order_id":1,"line":1}');
    assert.deepEqual(first!.key, { order_id: 1, line: 1 });
    assert.equal(first!.record.headers!['event-id'], 'shop.stock.order line:snapshot:snap-1:{"order_id":1,"line":1}');
    const v = JSON.parse(String(first!.record.value)) as { op: string; ts_ms: number; source: { position: string; committedAt: string; txId: null } };
    assert.equal(v.op, 'r');
    assert.equal(v.ts_ms, NOW);
    assert.deepEqual(v.source, { system: 'shop', schema: 'stock', table: 'order line', position: first!.position, committedAt: '2026-03-04T05:06:07.089Z', txId: null });
  });

  it('refuse a row JSON cannot hold with a DataError naming its event id', () => {
    assert.throws(
      () => snapshotRecords(TABLE, 'snap-1', [ROWS[0]!, { order_id: 9, line: 1, big: 10n }], NOW),
      (err: unknown) => err instanceof DataError && /shop\.stock\.order line:snapshot:snap-1:\{"order_id":9,"line":1\}: the change cannot be encoded as JSON/.test(err.message),
    );
  });

  it('of an empty chunk are none', () => {
    assert.deepEqual(snapshotRecords(TABLE, 'snap-1', [], NOW), []);
  });
});
