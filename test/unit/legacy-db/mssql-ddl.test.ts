import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { mssqlChangelogDdl, mssqlChangelogDropDdl, mssqlChangelogNames } from '../../../libs/legacy-db/src/mssql/mssql-changelog.ddl';
import { cdcCustomers, customers, mssqlSystem, orderLines, orders } from './mssql-fixtures';
import { loadTsqlParser, parseTsql } from './tsql-parser';

const system = mssqlSystem([orderLines, customers, orders, cdcCustomers]);

describe('mssqlChangelogDdl', () => {
  before(loadTsqlParser);

  it('is a list of T-SQL batches that each parse, with no GO separators', () => {
    const batches = mssqlChangelogDdl(system);
    // schema + 4 per trigger table (2 tables) + 3 for the existing changelog; nothing for CDC
    assert.equal(batches.length, 1 + 4 * 2 + 3);
    for (const batch of batches) {
      assert.equal(parseTsql(batch), 1, batch);
      assert.doesNotMatch(batch, /^\s*GO\s*$/im);
    }
  });

  it('creates the sync schema through EXEC (CREATE SCHEMA must start a batch), owned by dbo, only when missing', () => {
    assert.equal(mssqlChangelogDdl(system)[0], "IF SCHEMA_ID(N'sync') IS NULL EXEC(N'CREATE SCHEMA [sync] AUTHORIZATION [dbo]')");
  });

  it('creates a changelog per trigger table with identity id, rowversion watermark, JSON images and origin, guarded', () => {
    const [table, index] = mssqlChangelogDdl(system).slice(2, 4);
    assert.match(table!, /^IF OBJECT_ID\(N'\[sync\]\.\[Sales_Order_Line_changes\]', N'U'\) IS NULL\nCREATE TABLE \[sync\]\.\[Sales_Order_Line_changes\] \(/);
    for (const column of [
      '[id] bigint IDENTITY(1,1) NOT NULL PRIMARY KEY',
      '[rv] rowversion NOT NULL',
      "[op] char(1) NOT NULL CHECK ([op] IN ('c', 'u', 'd'))",
      '[before] nvarchar(max) NULL',
      '[after] nvarchar(max) NULL',
      '[origin] nvarchar(128) NULL',
      '[changed_at] datetime2 NOT NULL DEFAULT SYSUTCDATETIME()',
    ]) {
      assert.ok(table!.includes(column), column);
    }
    assert.equal(
      index,
      "IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'[sync].[Sales_Order_Line_changes]') AND name = N'Sales_Order_Line_changes_rv')\nCREATE INDEX [Sales_Order_Line_changes_rv] ON [sync].[Sales_Order_Line_changes] ([rv])",
    );
  });

  it('writes a set-based trigger: inserted and deleted matched on the whole key, row images by FOR JSON, origin from SESSION_CONTEXT', () => {
    const trigger = mssqlChangelogDdl(system)[4]!;
    assert.match(trigger, /^CREATE OR ALTER TRIGGER \[Sales\]\.\[sync_Sales_Order_Line_capture\] ON \[Sales\]\.\[Order Line\] AFTER INSERT, UPDATE, DELETE AS\nBEGIN\n  SET NOCOUNT ON;/);
    assert.ok(trigger.includes('FROM inserted AS i\n  FULL OUTER JOIN deleted AS d ON i.[order] = d.[order] AND i.[Line No] = d.[Line No]'));
    assert.ok(trigger.includes("CASE WHEN d.[order] IS NULL THEN 'c' WHEN i.[order] IS NULL THEN 'd' ELSE 'u' END"));
    assert.ok(trigger.includes('CASE WHEN d.[order] IS NOT NULL THEN (SELECT d.* FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES) END'));
    assert.ok(trigger.includes('CASE WHEN i.[order] IS NOT NULL THEN (SELECT i.* FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES) END'));
    assert.ok(trigger.includes("CAST(SESSION_CONTEXT(N'sync_origin') AS nvarchar(128))"));
    assert.ok(trigger.includes('CURRENT_TRANSACTION_ID()'));
    assert.ok(trigger.includes('ORDER BY COALESCE(i.[order], d.[order]), COALESCE(i.[Line No], d.[Line No]);'));
    assert.ok(trigger.includes('IF NOT EXISTS (SELECT 1 FROM inserted) AND NOT EXISTS (SELECT 1 FROM deleted) RETURN;'));
  });

  it('adds a guarded rowversion watermark, its index and the origin column to an existing changelog', () => {
    const [watermark, index, origin] = mssqlChangelogDdl(system).slice(9);
    assert.match(watermark!, /^IF COL_LENGTH\(N'\[audit\]\.\[Order Log\]', N'sync_rv'\) IS NULL\nBEGIN\n/);
    assert.ok(watermark!.includes("IF EXISTS (SELECT 1 FROM sys.columns WHERE object_id = OBJECT_ID(N'[audit].[Order Log]') AND system_type_id = 189)"));
    assert.ok(watermark!.includes('THROW 50001,'));
    assert.ok(watermark!.includes('ALTER TABLE [audit].[Order Log] ADD [sync_rv] rowversion NOT NULL;'));
    assert.match(index!, /CREATE INDEX \[Order Log_sync_rv\] ON \[audit\]\.\[Order Log\] \(\[sync_rv\]\)$/);
    assert.equal(
      origin,
      "IF COL_LENGTH(N'[audit].[Order Log]', N'sync_origin') IS NULL\nALTER TABLE [audit].[Order Log] ADD [sync_origin] nvarchar(128) NULL DEFAULT CAST(SESSION_CONTEXT(N'sync_origin') AS nvarchar(128))",
    );
  });

  it('refuses, before creating anything, a table whose columns the trigger cannot write as JSON', () => {
    const guard = mssqlChangelogDdl(system)[1]!;
    assert.equal(
      guard.split('\n')[0],
      "IF EXISTS (SELECT 1 FROM sys.columns WHERE object_id = OBJECT_ID(N'[Sales].[Order Line]') AND system_type_id IN (34, 35, 99, 240))",
    );
    assert.match(guard, /THROW 50002, N'erp\.Sales\.Order Line has image, text, ntext or CLR-type/);
  });

  it('leaves CDC tables alone (CDC is enabled with sys.sp_cdc_enable_table)', () => {
    assert.ok(mssqlChangelogDdl(mssqlSystem([cdcCustomers])).every((b) => !b.includes('customer')));
  });

  it('names triggers per table, since SQL Server trigger names are unique per schema', () => {
    const a = mssqlChangelogNames('sync', customers).trigger;
    const b = mssqlChangelogNames('sync', { ...customers, name: 'supplier' }).trigger;
    assert.notEqual(a, b);
    assert.equal(a, '[dbo].[sync_dbo_customer_capture]');
  });

  it('drops the triggers and changelogs it created, idempotently, and the statements parse', () => {
    const drop = mssqlChangelogDropDdl(system);
    assert.deepEqual(drop, [
      'DROP TRIGGER IF EXISTS [Sales].[sync_Sales_Order_Line_capture]',
      'DROP TABLE IF EXISTS [sync].[Sales_Order_Line_changes]',
      'DROP TRIGGER IF EXISTS [dbo].[sync_dbo_customer_capture]',
      'DROP TABLE IF EXISTS [sync].[dbo_customer_changes]',
    ]);
    for (const batch of drop) assert.equal(parseTsql(batch), 1);
  });

  it('the parser check can fail: a trigger with a broken body is rejected', () => {
    const trigger = mssqlChangelogDdl(system)[4]!;
    for (const [from, to] of [
      ['FULL OUTER JOIN', 'FULL OUTER'],
      ['AS nvarchar(128)),', 'AS nvarchar(128),'],
    ] as const) {
      const broken = trigger.replace(from, to);
      assert.notEqual(broken, trigger);
      assert.throws(() => parseTsql(broken), /does not parse/);
    }
  });
});
