import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { mssqlWritebackStatements as S } from '../../../libs/legacy-db/src/mssql/mssql-writeback.sink';
import { mssqlInboxDdl } from '../../../libs/legacy-db/src/mssql/mssql-inbox.ddl';
import { mssqlKeyedWrite } from '../../../libs/legacy-db/src/mssql/mssql-identity';
import { customers, orderLines } from '../legacy-db/mssql-fixtures';
import { loadTsqlParser, parseTsql } from '../legacy-db/tsql-parser';
import { referencingKeys, tsqlKeyMovePlan, tsqlReferencingKeys, tsqlRowExists, tsqlWritableColumns } from '../../../libs/legacy-db/src/mssql/mssql-key-move';

/**
 * sqlparser-rs (mssql dialect) rejects the table hint on MERGE's target (`MERGE INTO t WITH
 * (HOLDLOCK) AS t`), which SQL Server requires for an atomic upsert. Only that exact hint is
 * stripped before parsing; the test asserts it is present first.
 */
function parseWithHoldlock(text: string): number {
  assert.match(text, /MERGE INTO \S+(?: \S+)* WITH \(HOLDLOCK\) AS t/);
  return parseTsql(text.replace(/ WITH \(HOLDLOCK\) AS t\n/g, ' AS t\n'));
}

const syncSchema = 'sync bridge';
const keyA = { order: 1, 'Line No': 2 };
const keyB = { order: 1, 'Line No': 3 };

describe('SQL Server write-back statements', () => {
  before(() => loadTsqlParser());

  it('sets the origin marker with sp_set_session_context', () => {
    const s = S.setOrigin('svc:orders');
    assert.equal(s.text, "EXEC sp_set_session_context @key = N'sync_origin', @value = @origin");
    assert.deepEqual(s.params, [{ name: 'origin', value: 'svc:orders' }]);
    assert.equal(parseTsql(s.text), 1);
  });

  it('upserts a multi-row batch with MERGE … WITH (HOLDLOCK), updating only the given columns', () => {
    const s = S.merge(orderLines, ['qty', 'sku'], [
      { key: keyA, columns: { qty: 1, sku: 'A' } },
      { key: keyB, columns: { qty: 2, sku: 'B' } },
    ]);
    assert.equal(parseWithHoldlock(s.text), 1);
    assert.match(s.text, /MERGE INTO \[Sales\]\.\[Order Line\] WITH \(HOLDLOCK\) AS t/);
    assert.match(s.text, /WHEN MATCHED THEN UPDATE SET t\.\[qty\] = v\.\[qty\], t\.\[sku\] = v\.\[sku\]/);
    assert.match(s.text, /ON t\.\[order\] = v\.\[order\] AND t\.\[Line No\] = v\.\[Line No\]/);
    assert.deepEqual(s.params.map((p) => p.value), [1, 2, 1, 'A', 1, 3, 2, 'B']);
  });

  it('writes explicit identity keys under SET IDENTITY_INSERT only for tables with identityInsert: true, and turns it off on failure', () => {
    const rows = [{ key: { id: 7 }, columns: { name: 'x' } }];
    const flagged = S.keyedUpsert({ ...customers, identityInsert: true }, mssqlKeyedWrite({ ...customers, identityInsert: true }, 'id'), ['name'], rows)!;
    const block =
      /^SET IDENTITY_INSERT \[dbo\]\.\[customer\] ON;\nBEGIN TRY\n([\s\S]+)\nEND TRY\nBEGIN CATCH\n(SET IDENTITY_INSERT \[dbo\]\.\[customer\] OFF;\nTHROW;)\nEND CATCH;\nSET IDENTITY_INSERT \[dbo\]\.\[customer\] OFF;$/.exec(flagged.text);
    assert.ok(block, flagged.text);
    // sqlparser-rs has no BEGIN TRY … END CATCH: the block's frame is asserted above, its statements parsed here.
    assert.equal(parseWithHoldlock(block[1]!), 1);
    assert.match(block[1]!, /WHEN NOT MATCHED BY TARGET THEN INSERT \(\[id\], \[name\]\)/);
    assert.equal(parseTsql(block[2]!), 2);
    assert.equal(parseTsql('SET IDENTITY_INSERT [dbo].[customer] ON;'), 1);
    assert.deepEqual(flagged.params.map((p) => p.value), [7, 'x']);

    // Without the flag an identity key is never inserted explicitly: existing rows are updated.
    const plain = S.keyedUpsert(customers, mssqlKeyedWrite(customers, 'id'), ['name'], rows)!;
    assert.equal(parseTsql(plain.text), 1);
    assert.match(plain.text, /^UPDATE t SET t\.\[name\] = v\.\[name\] FROM \[dbo\]\.\[customer\] AS t/);
    assert.doesNotMatch(plain.text, /IDENTITY_INSERT|INSERT \(/);
    assert.equal(S.keyedUpsert(customers, 'update-existing', [], rows), undefined, 'a key-only upsert of an existing row writes nothing');

    // A table whose key is no identity column: a plain MERGE, flag or not.
    for (const table of [customers, { ...customers, identityInsert: true }]) {
      const merge = S.keyedUpsert(table, mssqlKeyedWrite(table, undefined), ['name'], rows)!;
      assert.equal(parseWithHoldlock(merge.text), 1);
      assert.doesNotMatch(merge.text, /IDENTITY_INSERT/);
    }
  });

  it('inserts generated-key rows and reports each key with its input position through OUTPUT … INTO', () => {
    const s = S.insertGenerated(customers, ['email', 'name'], [
      { name: 'a', email: 'a@x' },
      { name: 'b', email: 'b@x' },
    ]);
    assert.equal(parseTsql(s.text), 3);
    assert.match(s.text, /OUTPUT v\.\[sync_ord\], CAST\(inserted\.\[id\] AS nvarchar\(400\)\) INTO @generated/);
    assert.match(s.text, /ON 1 = 0/);
    assert.deepEqual(s.params.map((p) => p.value), [0, 'a@x', 'a', 1, 'b@x', 'b']);
    // MERGE's `INSERT DEFAULT VALUES` (valid T-SQL) is not in sqlparser-rs's grammar: checked by text.
    assert.match(S.insertGenerated(customers, [], [{}]).text, /WHEN NOT MATCHED THEN INSERT DEFAULT VALUES\n/);
  });

  it('updates existing identity-keyed rows without naming the key in an insert', () => {
    const s = S.update(customers, ['name'], [{ key: { id: 1 }, columns: { name: 'n' } }]);
    assert.equal(parseTsql(s.text), 1);
    assert.match(s.text, /^UPDATE t SET t\.\[name\] = v\.\[name\] FROM \[dbo\]\.\[customer\] AS t/);
  });

  it('deletes by composite key with a join on a VALUES list', () => {
    const s = S.delete(orderLines, [keyA, keyB]);
    assert.equal(parseTsql(s.text), 1);
    assert.deepEqual(s.params.map((p) => p.value), [1, 2, 1, 3]);
  });

  it('locks existing rows with UPDLOCK, HOLDLOCK before checking conflicts', () => {
    const s = S.lockRows(orderLines, [keyA]);
    assert.equal(parseTsql(s.text), 1);
    assert.match(s.text, /WITH \(UPDLOCK, HOLDLOCK\)/);
  });

  it('finds the latest non-suite change after basedOn in the trigger changelog', () => {
    const s = S.conflicts(orderLines, '[sync].[Sales_Order_Line_changes]', [{ index: 0, basedOn: '41', key: keyA }]);
    assert.equal(parseTsql(s.text), 1);
    assert.match(s.text, /c\.\[origin\] IS NULL/);
    assert.match(s.text, /JSON_VALUE\(COALESCE\(c\.\[after\], c\.\[before\]\), N'\$\."Line No"'\) = v\.\[k1\]/);
    assert.deepEqual(s.params.map((p) => p.value), [0, '41', '1', '2']);
  });

  it('reads and writes the inbox and the parked table', () => {
    assert.equal(parseTsql(S.inboxLookup(syncSchema, ['a', 'b']).text), 1);
    const insert = S.inboxInsert(syncSchema, orderLines, [
      { commandId: 'c1', globalId: 'g1', origin: 'svc', outcome: 'applied', result: { key: { id: 1 } } },
      { commandId: 'c2', globalId: 'g2', origin: 'svc', outcome: 'skipped-conflict', result: undefined },
    ]);
    assert.equal(parseTsql(insert.text), 1);
    assert.ok(insert.params.some((p) => p.value === '{"key":{"id":1}}'));
    assert.equal(parseWithHoldlock(S.park(syncSchema, orderLines, 'c1', 'g1', { a: 1 }, 'FK').text), 1);
    assert.equal(parseTsql(S.parked(syncSchema, orderLines).text), 1);
    const unpark = S.unpark(syncSchema, ['c1', 'c2']);
    assert.equal(parseTsql(unpark.text), 1);
    assert.deepEqual(unpark.params.map((p) => p.value), ['c1', 'c2']);
    assert.doesNotMatch(S.park(syncSchema, orderLines, 'c1', 'g1', {}, 'FK').text, /parked_at\] =/, 're-parking keeps the first parked time');
    assert.equal(parseTsql(S.catalog(orderLines).text), 1);
  });

  it('creates the inbox (command_id key, origin for the CDC capture) and parked tables idempotently', () => {
    const ddl = mssqlInboxDdl('sync');
    for (const batch of ddl) assert.ok(parseTsql(batch) >= 1, batch);
    assert.match(ddl[1]!, /\[command_id\] nvarchar\(400\) NOT NULL PRIMARY KEY/);
    assert.match(ddl[1]!, /\[origin\] nvarchar\(128\) NOT NULL/);
    assert.match(ddl[1]!, /\[result\] nvarchar\(max\) NULL/);
  });
});

describe('SQL Server write-back: moving a row to a new primary key', () => {
  before(() => loadTsqlParser());
  const to = { order: 2, 'Line No': 9 };

  it('reads the referencing foreign keys and keeps those on exactly the key columns', () => {
    for (const s of [tsqlReferencingKeys(orderLines), tsqlWritableColumns(orderLines)]) {
      assert.equal(parseTsql(s.text), 1);
      assert.deepEqual(s.params, [{ name: 'table', value: '[Sales].[Order Line]' }]);
    }
    const rows = [
      { fk_id: 1, child: '[Sales].[Note]', on_update: 0, child_column: 'line_order', parent_column: 'order' },
      { fk_id: 1, child: '[Sales].[Note]', on_update: 0, child_column: 'line_no', parent_column: 'Line No' },
      { fk_id: 2, child: '[Sales].[Other]', on_update: 1, child_column: 'o', parent_column: 'order' },
    ];
    assert.deepEqual(referencingKeys(orderLines, rows), [{ child: '[Sales].[Note]', onUpdate: 0, childColumns: ['line_order', 'line_no'], parentColumns: ['order', 'Line No'] }]);
  });

  it('updates the key in place when every referencing foreign key cascades', () => {
    const [update, ...rest] = tsqlKeyMovePlan(orderLines, [{ child: '[Sales].[Other]', onUpdate: 1, childColumns: ['o', 'l'], parentColumns: ['order', 'Line No'] }], [], keyA, to);
    assert.equal(rest.length, 0);
    assert.equal(parseTsql(update!.text), 1);
    assert.equal(update!.text, 'UPDATE [Sales].[Order Line] SET [order] = @m0, [Line No] = @m1 WHERE [order] = @m2 AND [Line No] = @m3');
    assert.deepEqual(update!.params.map((p) => p.value), [2, 9, 1, 2]);
  });

  it('copies, re-points the children and deletes otherwise; the lock probe parses', () => {
    const fk = { child: '[Sales].[Note]', onUpdate: 0, childColumns: ['line_no', 'line_order'], parentColumns: ['Line No', 'order'] };
    const plan = tsqlKeyMovePlan(orderLines, [fk], ['order', 'Line No', 'qty'], keyA, to);
    assert.deepEqual(plan.map((s) => s.text.split(' ')[0]), ['INSERT', 'UPDATE', 'DELETE']);
    for (const s of [...plan, tsqlRowExists(orderLines, to)]) assert.equal(parseTsql(s.text), 1);
    assert.equal(plan[0]!.text, 'INSERT INTO [Sales].[Order Line] ([order], [Line No], [qty]) SELECT @m0, @m1, [qty] FROM [Sales].[Order Line] WHERE [order] = @m2 AND [Line No] = @m3');
    assert.equal(plan[1]!.text, 'UPDATE [Sales].[Note] SET [line_no] = @m0, [line_order] = @m1 WHERE [line_no] = @m2 AND [line_order] = @m3');
    assert.deepEqual(plan[1]!.params.map((p) => p.value), [9, 2, 2, 1]);
  });
});
