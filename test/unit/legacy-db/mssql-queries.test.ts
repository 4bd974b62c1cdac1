import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { LosslessNumber } from 'lossless-json';
import { changelogChangeId, mapOperation, mssqlChangelogQueries } from '../../../libs/legacy-db/src/mssql/mssql-changelog.source';
import { keyParam, mssqlCatalogQueries } from '../../../libs/legacy-db/src/mssql/mssql-table.catalog';
import { mssqlChangelogNames } from '../../../libs/legacy-db/src/mssql/mssql-changelog.ddl';
import { mssqlTriggerQueries } from '../../../libs/legacy-db/src/mssql/mssql-trigger.source';
import { type MssqlStatement } from '../../../libs/legacy-db/src/mssql/mssql-statement';
import { changelogCapture, orderLines, orders } from './mssql-fixtures';
import { loadTsqlParser, parseTsql } from './tsql-parser';

const rv = Buffer.from('00000000000007d1', 'hex');
const types = new Map([
  ['order', { kind: 'int', type: 'int' }],
  ['Line No', { kind: 'binary', type: 'varbinary' }],
] as const);

function parsesAsOne(s: MssqlStatement): void {
  assert.equal(parseTsql(s.text), 1, s.text);
  // Every @name in the text is bound, and nothing else is.
  const used = new Set([...s.text.matchAll(/@(\w+)/g)].map((m) => m[1]));
  assert.deepEqual([...used].sort(), s.params.map((p) => p.name).sort(), s.text);
}

describe('SQL Server catalog statements', () => {
  before(loadTsqlParser);
  const q = mssqlCatalogQueries(orderLines);

  it('reads column types from INFORMATION_SCHEMA.COLUMNS by parameter', () => {
    const s = q.columns();
    assert.equal(s.text, 'SELECT COLUMN_NAME AS column_name, DATA_TYPE AS data_type FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = @schema AND TABLE_NAME = @table');
    assert.deepEqual(s.params.map((p) => p.value), ['Sales', 'Order Line']);
    parsesAsOne(s);
  });

  it('pages a snapshot by key with TOP, whole rows as FOR JSON', () => {
    const s = q.snapshotChunk(null, 100, types);
    assert.equal(
      s.text,
      'SELECT TOP (@limit) (SELECT t.* FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES) AS [row] FROM [Sales].[Order Line] AS t ORDER BY t.[order], t.[Line No]',
    );
    assert.deepEqual(s.params, [{ name: 'limit', type: 'int', value: 100 }]);
    parsesAsOne(s);
  });

  it('spells the composite keyset condition out (SQL Server has no row-value comparison) and types key values', () => {
    const s = q.snapshotChunk({ order: 7, 'Line No': 'AQI=' }, 100, types);
    assert.ok(s.text.endsWith(' WHERE (t.[order] > @k0) OR (t.[order] = @k0 AND t.[Line No] > @k1) ORDER BY t.[order], t.[Line No]'), s.text);
    assert.deepEqual(s.params, [
      { name: 'limit', type: 'int', value: 100 },
      { name: 'k0', type: 'int', value: 7 },
      { name: 'k1', type: 'varbinary', value: Buffer.from([1, 2]) },
    ]);
    parsesAsOne(s);
  });

  it('reads the current row of one key', () => {
    const s = q.currentRow({ order: 7, 'Line No': 'AQI=' }, types);
    assert.equal(
      s.text,
      'SELECT (SELECT t.* FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES) AS [row] FROM [Sales].[Order Line] AS t WHERE t.[order] = @k0 AND t.[Line No] = @k1',
    );
    parsesAsOne(s);
  });

  it('passes decimals, big integers and timestamps as exact text, varchar keys as varchar', () => {
    assert.deepEqual(keyParam('k0', { kind: 'decimal', type: 'decimal' }, '12345678901234567890.12'), { name: 'k0', type: 'nvarchar', value: '12345678901234567890.12' });
    assert.deepEqual(keyParam('k0', { kind: 'bigint', type: 'bigint' }, '9007199254740993'), { name: 'k0', type: 'bigint', value: '9007199254740993' });
    assert.deepEqual(keyParam('k0', { kind: 'timestamptz', type: 'datetimeoffset' }, '2024-01-02T03:04:05.1234567+01:00'), {
      name: 'k0',
      type: 'nvarchar',
      value: '2024-01-02T03:04:05.1234567+01:00',
    });
    assert.deepEqual(keyParam('k0', { kind: 'text', type: 'varchar' }, 'A-1'), { name: 'k0', type: 'varchar', value: 'A-1' });
    assert.deepEqual(keyParam('k0', { kind: 'bool', type: 'bit' }, true), { name: 'k0', type: 'bit', value: true });
  });
});

describe('SQL Server trigger changelog statements', () => {
  before(loadTsqlParser);
  const q = mssqlTriggerQueries(mssqlChangelogNames('sync', orderLines).changelog);

  it('reads only below MIN_ACTIVE_ROWVERSION(), after the position, in rv order', () => {
    const s = q.read(rv, 500);
    assert.equal(
      s.text,
      'SELECT TOP (@limit) [id], [rv], [op], [before], [after], [origin], [tx], [changed_at] FROM [sync].[Sales_Order_Line_changes] WITH (READPAST) WHERE [rv] > @after AND [rv] < MIN_ACTIVE_ROWVERSION() ORDER BY [rv]',
    );
    assert.deepEqual(s.params, [
      { name: 'limit', type: 'int', value: 500 },
      { name: 'after', type: 'rowversion', value: rv },
    ]);
    parsesAsOne(s);
  });

  it('takes the start position from MIN_ACTIVE_ROWVERSION()', () => {
    assert.equal(q.watermark().text, 'SELECT MIN_ACTIVE_ROWVERSION() AS [watermark]');
    parsesAsOne(q.watermark());
  });

  it('measures lag from the oldest row after the position, held back by an open transaction or not', () => {
    const s = q.pendingAge(rv);
    assert.equal(
      s.text,
      'SELECT DATEDIFF_BIG(millisecond, MIN([changed_at]), SYSUTCDATETIME()) AS [ageMs] FROM [sync].[Sales_Order_Line_changes] WITH (READPAST) WHERE [rv] > @after',
    );
    // Not bounded by MIN_ACTIVE_ROWVERSION(): rows committed behind an open transaction count.
    assert.doesNotMatch(s.text, /MIN_ACTIVE_ROWVERSION/);
    assert.deepEqual(s.params, [{ name: 'after', type: 'rowversion', value: rv }]);
    parsesAsOne(s);
  });

  it('counts the backlog after the position', () => {
    assert.equal(q.backlog(rv).text, 'SELECT COUNT_BIG(*) AS [n] FROM [sync].[Sales_Order_Line_changes] WHERE [rv] > @after');
    parsesAsOne(q.backlog(rv));
  });

  it('purges in bounded batches, only rows already read and older than the retention', () => {
    const s = q.purge(rv, 30 * 86_400_000 + 1_234, 1000);
    assert.equal(
      s.text,
      'DELETE FROM [sync].[Sales_Order_Line_changes] WHERE [id] IN (SELECT TOP (@limit) [id] FROM [sync].[Sales_Order_Line_changes] WHERE [rv] <= @upTo AND [changed_at] < DATEADD(millisecond, -@ageMs, DATEADD(second, -@ageS, SYSUTCDATETIME())) ORDER BY [rv])',
    );
    // 30 days in milliseconds overflows DATEADD's int; seconds plus milliseconds do not.
    assert.deepEqual(
      s.params.map((p) => [p.name, p.value]),
      [
        ['limit', 1000],
        ['upTo', rv],
        ['ageS', 2_592_001],
        ['ageMs', 234],
      ],
    );
    parsesAsOne(s);
  });
});

describe('SQL Server existing-changelog statements', () => {
  before(loadTsqlParser);
  const capture = orders.capture.mode === 'changelog' ? orders.capture : assert.fail('fixture');
  const q = mssqlChangelogQueries(capture);

  it('reads whole changelog rows as JSON below MIN_ACTIVE_ROWVERSION() on the watermark column', () => {
    const s = q.read(rv, 200);
    assert.equal(
      s.text,
      'SELECT TOP (@limit) c.[sync_rv] AS [_wm], (SELECT c.* FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES) AS [_row], SYSUTCDATETIME() AS [_read_at] FROM [audit].[Order Log] AS c WHERE c.[sync_rv] > @after AND c.[sync_rv] < MIN_ACTIVE_ROWVERSION() ORDER BY c.[sync_rv]',
    );
    parsesAsOne(s);
  });

  it('counts the backlog, reads the changelog columns and the start watermark', () => {
    for (const s of [q.backlog(rv), q.columns(), q.watermark()]) parsesAsOne(s);
    assert.equal(q.backlog(rv).text, 'SELECT COUNT_BIG(*) AS [n] FROM [audit].[Order Log] AS c WHERE c.[sync_rv] > @after');
    assert.deepEqual(q.columns().params.map((p) => p.value), ['audit', 'Order Log']);
  });

  it('maps operation values, also numeric ones and space-padded char values', () => {
    assert.equal(mapOperation('I', changelogCapture.mode === 'changelog' ? changelogCapture.operationValues : assert.fail()), 'c');
    assert.equal(mapOperation('U  ', { insert: 'I', update: 'U', delete: 'D' }), 'u');
    assert.equal(mapOperation(new LosslessNumber('3'), { insert: 1, update: 2, delete: 3 }), 'd');
    assert.equal(mapOperation('X', { insert: 'I', update: 'U', delete: 'D' }), undefined);
    assert.equal(mapOperation(null, { insert: 'I', update: 'U', delete: 'D' }), undefined);
  });

  it('derives a stable change id from the position columns', () => {
    assert.equal(changelogChangeId({ log_id: new LosslessNumber('12345678901234567890'), part: 'a' }, ['log_id', 'part'], 'wm'), '12345678901234567890:a');
    assert.equal(changelogChangeId({ log_id: 1 }, [], '00000000000007d1'), '00000000000007d1');
  });
});
