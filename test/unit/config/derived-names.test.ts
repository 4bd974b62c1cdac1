import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changelogNames, ConfigValidationError, MAX_DERIVED_NAME_BYTES, parsePipeline, type ConfigIssue } from '@sync/config';
import { changelogDdl } from '@sync/legacy-db';

function issuesOf(yaml: string): readonly ConfigIssue[] {
  try {
    parsePipeline(yaml, 'collide.yaml');
  } catch (error: unknown) {
    assert.ok(error instanceof ConfigValidationError, `expected ConfigValidationError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('expected the pipeline to be rejected');
}

const system = (dialect: 'postgres' | 'mssql', tables: string): string => `
version: 1
systems:
  crm:
    dialect: ${dialect}
    connection: { host: db, database: crm, password: { env: CRM_PW } }
    tables:
${tables}
`;

const table = (schema: string, name: string, capture = '{ mode: trigger }'): string => `      - schema: ${schema}
        name: "${name}"
        key: [id]
        capture: ${capture}`;

describe('derived-name collisions are refused at load', () => {
  it('sales_eu.orders and sales.eu_orders (one changelog sales_eu_orders_changes): both tables and the name in the message', () => {
    const issues = issuesOf(system('postgres', `${table('sales_eu', 'orders')}\n${table('sales', 'eu_orders')}`));
    assert.equal(issues.length, 1, JSON.stringify(issues));
    const [issue] = issues;
    assert.equal(issue!.path, 'systems.crm.tables[1].name');
    assert.match(issue!.message, /sales\.eu_orders/);
    assert.match(issue!.message, /sales_eu\.orders/);
    assert.match(issue!.message, /"sales_eu_orders_changes"/);
    assert.match(issue!.message, /changelog table/);
  });

  it('"User Name" and "User_Name" (one topic and one changelog): refused on both dialects, also without trigger capture', () => {
    for (const dialect of ['postgres', 'mssql'] as const) {
      const [issue, ...rest] = issuesOf(system(dialect, `${table('app', 'User Name')}\n${table('app', 'User_Name')}`));
      assert.equal(rest.length, 0, JSON.stringify(rest));
      assert.equal(issue!.path, 'systems.crm.tables[1].name');
      assert.match(issue!.message, /table app\.User_Name and table app\.User Name \(tables\[0\]\)/);
    }
    const [cdc] = issuesOf(system('mssql', `${table('app', 'User Name', '{ mode: cdc }')}\n${table('app', 'User_Name', '{ mode: cdc }')}`));
    assert.match(cdc!.message, /same topic name "crm\.app\.User_Name"/);
  });

  it('SQL Server compares generated names case-insensitively; PostgreSQL does not', () => {
    const [issue] = issuesOf(system('mssql', `${table('Sales', 'Eu_Orders')}\n${table('x', 'y', '{ mode: trigger, changelogTable: SALES_EU_ORDERS_CHANGES }')}`));
    assert.equal(issue!.path, 'systems.crm.tables[1].name');
    assert.match(issue!.message, /Sales\.Eu_Orders/);
    // Distinct on PostgreSQL (quoted names are case-sensitive), so the same tables load there.
    parsePipeline(system('postgres', `${table('Sales', 'Eu_Orders')}\n${table('sales', 'eu_orders')}`), 'ok.yaml');
  });

  it('long names are shortened to 60 bytes with a hash suffix; two long names sharing a prefix stay apart, and the DDL uses the same names', () => {
    const long = 'a'.repeat(55);
    const config = parsePipeline(system('postgres', `${table('s', `${long}_one`)}\n${table('s', `${long}_two`)}`), 'ok.yaml');
    const tables = [...config.systems.get('crm')!.tables];
    const [one, two] = tables.map((t) => changelogNames(t));
    for (const names of [one!, two!]) {
      for (const name of [names.table, names.captureFunction, names.statementFunction, names.txIndex, names.conflictIndex]) {
        assert.ok(Buffer.byteLength(name) <= MAX_DERIVED_NAME_BYTES, name);
        assert.match(name, /_[0-9a-f]{8}$/);
      }
    }
    assert.notEqual(one!.table, two!.table);
    const ddl = changelogDdl(config.systems.get('crm')!).join('\n');
    for (const names of [one!, two!]) {
      assert.ok(ddl.includes(`"${names.table}"`), `DDL creates ${names.table}`);
      // The default trigger level (statement) creates the statement function.
      assert.ok(ddl.includes(`"${names.statementFunction}"`), `DDL creates ${names.statementFunction}`);
    }
  });
});
