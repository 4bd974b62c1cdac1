import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parse } from '@guanmingchiu/sqlparser-ts';
import { parsePipeline, type Dialect } from '@sync/config';
import { changelogDdl } from '@sync/legacy-db';
import { mssqlChangelogNames } from '../../../libs/legacy-db/src/mssql/mssql-changelog.ddl';
import { SCENARIOS, WRITEBACK_LOCK_WAIT } from '../../integration/legacy-writeback/writeback-scenarios';
import { mssqlCreateDatabaseSql, mssqlDropDatabaseSql, mssqlPlaceholders, mssqlUrlWithDatabase } from '../../support/mssql-database';
import { loadTsqlParser, parseTsql } from '../legacy-db/tsql-parser';

interface TableShape {
  readonly table: string;
  readonly columns: string[];
  readonly key: string[];
  readonly notNull: string[];
}

type Ast = Record<string, unknown>;
const ident = (x: unknown): string => ((x as { value: string }).value ?? '').toLowerCase();

/** Table name, columns, primary key and NOT NULL columns of a CREATE TABLE, from sqlparser-rs's AST. */
function shape(sql: string, dialect: Dialect): TableShape {
  const statements = parse(sql, dialect === 'mssql' ? 'mssql' : 'postgresql') as Ast[];
  assert.equal(statements.length, 1, sql);
  const create = statements[0]!['CreateTable'] as { name: Array<{ Identifier: unknown }>; columns: Array<{ name: unknown; options: Array<{ option: unknown }> }>; constraints: Ast[] };
  assert.ok(create, `not a CREATE TABLE: ${sql}`);
  const has = (options: Array<{ option: unknown }>, name: string): boolean =>
    options.some((o) => o.option === name || (typeof o.option === 'object' && o.option !== null && name in o.option));
  const key = create.columns.filter((c) => has(c.options, 'PrimaryKey')).map((c) => ident(c.name));
  for (const constraint of create.constraints) {
    const pk = constraint['PrimaryKey'] as { columns: Array<{ column: { expr: { Identifier: unknown } } }> } | undefined;
    if (pk) key.push(...pk.columns.map((c) => ident(c.column.expr.Identifier)));
  }
  return {
    table: ident(create.name[create.name.length - 1]!.Identifier),
    columns: create.columns.map((c) => ident(c.name)),
    key,
    notNull: create.columns.filter((c) => has(c.options, 'NotNull') || has(c.options, 'PrimaryKey') || key.includes(ident(c.name))).map((c) => ident(c.name)),
  };
}

function mssqlSystem(tables: string) {
  return parsePipeline(`version: 1\nsystems:\n  erp:\n    dialect: mssql\n    connection:\n      url: { env: ERP_URL }\n    tables:\n${tables}`, 'scenario.yaml').systems.get('erp')!;
}

describe('SQL Server fixtures of the write-back integration suite (parsed, no server needed)', () => {
  before(() => loadTsqlParser());

  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    it(`${name}: T-SQL tables parse, use SQL Server types and match the PostgreSQL tables column for column`, () => {
      assert.equal(scenario.ddl.mssql.length, scenario.ddl.postgres.length);
      scenario.ddl.mssql.forEach((ddl, i) => {
        assert.equal(parseTsql(ddl), 1, ddl);
        // sqlparser-rs takes any word as a type name: PostgreSQL-only types are refused here.
        assert.doesNotMatch(ddl, /\b(text|serial|bigserial|jsonb|timestamptz|boolean|bytea)\b|::/i, ddl);
        assert.match(ddl, /^CREATE TABLE dbo\.\w+ \(/, 'in the schema the pipeline defaults to for mssql');
        assert.deepEqual(shape(ddl, 'mssql'), shape(scenario.ddl.postgres[i]!, 'postgres'));
      });
    });

    it(`${name}: the capture triggers, changelogs and inbox installed for these tables parse as T-SQL`, () => {
      const system = mssqlSystem(scenario.tables);
      const shapes = new Map(scenario.ddl.mssql.map((ddl) => [shape(ddl, 'mssql').table, shape(ddl, 'mssql')]));
      for (const table of system.tables) {
        // The trigger joins inserted and deleted on the configured key: it must be the primary key.
        assert.deepEqual(table.key, shapes.get(table.name)?.key, `${table.name}: configured key = primary key`);
      }
      const batches = changelogDdl(system);
      for (const batch of batches) assert.ok(parseTsql(batch) >= 1, batch);
      for (const table of system.tables) {
        assert.ok(batches.some((b) => /CREATE OR ALTER TRIGGER/.test(b) && b.includes(`ON [dbo].[${table.name}]`)), `trigger on ${table.name}`);
        assert.ok(batches.some((b) => b.includes(`CREATE TABLE ${mssqlChangelogNames(system.syncSchema, table).changelog}`)), `changelog of ${table.name}`);
      }
      assert.ok(batches.some((b) => b.includes('CREATE TABLE [sync].[inbox]')));
    });
  }

  it('the lock-wait probe parses', () => {
    assert.equal(parseTsql(WRITEBACK_LOCK_WAIT.mssql), 1);
    assert.match(WRITEBACK_LOCK_WAIT.mssql, /program_name = N'legacy-sync'/);
  });

  it('creates and drops the per-test database', () => {
    assert.equal(parseTsql(mssqlCreateDatabaseSql('it_writeback_x_1')), 1);
    const drop = mssqlDropDatabaseSql('it_writeback_x_1');
    // sqlparser-rs has no ALTER DATABASE: that statement is checked by text and taken out before parsing.
    const alter = 'ALTER DATABASE [it_writeback_x_1] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; ';
    assert.ok(drop.includes(alter), drop);
    assert.equal(parseTsql(drop.replace(alter, '')), 1);
    assert.match(drop, /^IF DB_ID\(N'it_writeback_x_1'\) IS NOT NULL BEGIN .* DROP DATABASE \[it_writeback_x_1\]; END$/);
  });

  it('turns the portable $n placeholders into named parameters and points a URL at the test database', () => {
    const text = mssqlPlaceholders('UPDATE acc_lw SET balance = 2 WHERE id = $1 AND owner = $12');
    assert.equal(text, 'UPDATE acc_lw SET balance = 2 WHERE id = @p1 AND owner = @p12');
    assert.equal(parseTsql(text), 1);
    assert.equal(mssqlUrlWithDatabase('mssql://sa:Passw0rd!@127.0.0.1:1433/master', 'it_db'), 'mssql://sa:Passw0rd!@127.0.0.1:1433/it_db');
    assert.equal(mssqlUrlWithDatabase('mssql://sa:pw@db.example', 'it_db'), 'mssql://sa:pw@db.example/it_db');
    assert.equal(mssqlUrlWithDatabase('Server=h,1433;Database=master;User Id=sa', 'it_db'), 'Server=h,1433;User Id=sa;Database=it_db');
  });
});
