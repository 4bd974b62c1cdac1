import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import type { CapturedChange } from '@sync/legacy-db';
import { changeRecords } from '../../../apps/legacy-import/src/change-record.builder';

const PIPELINE = parsePipeline(
  `
version: 1
systems:
  shop:
    dialect: postgres
    connection: { host: db, database: shop }
    tables:
      - name: item
        schema: stock
        key: [id]
`,
  'unit.yaml',
);
const TABLE = PIPELINE.systems.get('shop')!.tables[0]!;

function update(before: Record<string, unknown>, after: Record<string, unknown>): CapturedChange {
  return { op: 'u', before, after, changeId: '42', committedAt: '2026-01-01T00:00:00.000Z', txId: '7', origin: null };
}

const value = (r: { value: unknown }) => JSON.parse(String(r.value)) as { op: string; before: unknown; after: unknown; source: { position: string } };

describe('legacy-import: change records', () => {
  it('an update that keeps the key is one update record under that key', () => {
    const records = changeRecords(TABLE, update({ id: 5, name: 'a' }, { id: 5, name: 'b' }), 1);
    assert.deepEqual(records.map((r) => [r.key, value(r).op]), [['{"id":5}', 'u']]);
    assert.equal(records[0]!.headers?.['__debezium.oldkey'], undefined);
  });

  it('a primary-key update is a delete of the old key then a create of the new key, each naming the other key (Debezium)', () => {
    const records = changeRecords(TABLE, update({ id: 5, name: 'a' }, { id: 9, name: 'a' }), 1);
    assert.deepEqual(records.map((r) => [r.topic, r.key, value(r).op]), [
      ['legacy.shop.stock.item', '{"id":5}', 'd'],
      ['legacy.shop.stock.item', '{"id":9}', 'c'],
    ]);
    const [removed, created] = records;
    assert.deepEqual([value(removed!).before, value(removed!).after], [{ id: 5, name: 'a' }, null]);
    assert.deepEqual([value(created!).before, value(created!).after], [null, { id: 9, name: 'a' }]);
    assert.equal(removed!.headers?.['__debezium.newkey'], '{"id":9}');
    assert.equal(created!.headers?.['__debezium.oldkey'], '{"id":5}');
    assert.notEqual(removed!.headers?.['event-id'], created!.headers?.['event-id'], 'two events, two ids');
    assert.equal(value(created!).source.position, '42');
  });
});
