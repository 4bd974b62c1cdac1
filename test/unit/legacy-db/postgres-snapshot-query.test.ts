import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import { columnCountOf, jsonbKeyOrder, snapshotChunkQuery } from '../../../libs/legacy-db/src/postgres/postgres-snapshot.query';

const PIPELINE = parsePipeline(
  `
version: 1
systems:
  crm:
    dialect: postgres
    connection: { host: db, database: crm }
    tables:
      - name: order line
        schema: sales
        key: [order_id, line]
`,
  'unit.yaml',
);
const TABLE = PIPELINE.systems.get('crm')!.tables[0]!;
const QUALIFIED = '"sales"."order line"';
const COLUMNS = [
  { name: 'order_id', udtName: 'int4' },
  { name: 'line', udtName: 'int8' },
  { name: 'amount', udtName: 'numeric' },
  { name: 'ok', udtName: 'bool' },
  { name: 'at', udtName: 'timestamptz' },
  { name: 'doc', udtName: 'jsonb' },
  { name: 'tags', udtName: '_text' },
  { name: 'ratio', udtName: 'float8' },
  { name: 'blob', udtName: 'bytea' },
];

describe('PostgreSQL snapshot chunk statement', () => {
  it('selects plain columns as they are, date/time as their JSON text, the rest as JSON, in the row image key order', () => {
    const q = snapshotChunkQuery(TABLE, QUALIFIED, COLUMNS, null, 500);
    assert.equal(
      q.text,
      `SELECT to_jsonb(t."at") #>> '{}', t."ok", to_jsonb(t."doc")::text, t."blob", t."line", to_jsonb(t."tags")::text, t."ratio", t."amount", t."order_id", ` +
        `(SELECT count(*) FROM pg_attribute WHERE attrelid = '"sales"."order line"'::regclass AND attnum > 0 AND NOT attisdropped)::int4 ` +
        'FROM "sales"."order line" t ORDER BY "order_id", "line" LIMIT $1',
    );
    assert.deepEqual(q.values, [500]);
    assert.equal(q.columnCountAt, COLUMNS.length);
  });

  it('continues after a composite key with a row comparison, values as parameters', () => {
    const q = snapshotChunkQuery(TABLE, QUALIFIED, COLUMNS.slice(0, 2), { order_id: 7, line: "2'; DROP TABLE x; --" }, 10);
    assert.match(q.text, / WHERE \("order_id", "line"\) > \(\$1, \$2\) ORDER BY "order_id", "line" LIMIT \$3$/);
    assert.deepEqual(q.values, [7, "2'; DROP TABLE x; --", 10]);
  });

  it('decodes the text of each cell as the row image would hold it', () => {
    const q = snapshotChunkQuery(TABLE, QUALIFIED, COLUMNS, null, 1);
    const cells = ['2024-01-01T00:00:00+00:00', 't', '{"b": 1.50, "a": [12345678901234567890]}', '\\x00ff', '9007199254740993', '["x", null]', '-0', '1.50', '42', '9'];
    assert.equal(columnCountOf(cells), 9);
    const row = q.decode(cells);
    assert.deepEqual(Object.keys(row), ['at', 'ok', 'doc', 'blob', 'line', 'tags', 'ratio', 'amount', 'order_id']);
    assert.deepEqual(row, { at: '2024-01-01T00:00:00+00:00', ok: true, doc: { b: '1.50', a: ['12345678901234567890'] }, blob: 'AP8=', line: '9007199254740993', tags: ['x', null], ratio: 0, amount: '1.50', order_id: 42 });
    assert.ok(Object.is(row['ratio'], 0), 'no negative zero (jsonb has none)');
    const nulls = q.decode(COLUMNS.map(() => null));
    assert.ok(Object.values(nulls).every((v) => v === null));
    assert.equal(q.decode([null, 'f', null, null, null, null, 'NaN', null, null, '1'])['ok'], false);
    assert.ok(Number.isNaN(q.decode([null, null, null, null, null, null, 'NaN', null, null, '1'])['ratio']));
  });

  it('orders keys as jsonb does: shorter UTF-8 names first, then bytewise', () => {
    const names = jsonbKeyOrder(['zz', 'a', 'é', 'b', 'ab', 'B'].map((name) => ({ name, udtName: 'text' }))).map((c) => c.name);
    assert.deepEqual(names, ['B', 'a', 'b', 'ab', 'zz', 'é']);
  });
});
