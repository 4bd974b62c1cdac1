import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigValidationError, parsePipeline, type ConfigIssue } from '@sync/config';

function pipeline(dialect: 'postgres' | 'mssql', table: string): string {
  return `version: 1
systems:
  erp:
    dialect: ${dialect}
    connection: { url: { env: ERP_URL } }
    tables:
      - name: customer
        key: [id]
${table}`;
}

function issuesOf(yaml: string): readonly ConfigIssue[] {
  try {
    parsePipeline(yaml, 'identity.yaml');
  } catch (error: unknown) {
    assert.ok(error instanceof ConfigValidationError, `expected ConfigValidationError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('expected the pipeline to be rejected');
}

const PATH = 'systems.erp.tables[0].identityInsert';

describe('identityInsert (per table, SQL Server only)', () => {
  it('defaults to off and is accepted on an mssql table whose keys the suite supplies', () => {
    const off = parsePipeline(pipeline('mssql', '        generatedKey: true\n'), 'a.yaml').systems.get('erp')!.tables[0]!;
    assert.equal(off.identityInsert, false);
    assert.equal(off.generatedKey, true);
    const on = parsePipeline(pipeline('mssql', '        identityInsert: true\n        allocateKeysFrom: 1000000\n'), 'b.yaml').systems.get('erp')!.tables[0]!;
    assert.equal(on.identityInsert, true);
    assert.equal(on.generatedKey, false);
    assert.equal(parsePipeline(pipeline('postgres', '        identityInsert: false\n'), 'c.yaml').systems.get('erp')!.tables[0]!.identityInsert, false);
  });

  it('is refused on a postgres system, naming the path', () => {
    const issues = issuesOf(pipeline('postgres', '        identityInsert: true\n'));
    assert.deepEqual(issues.map((i) => i.path), [PATH]);
    assert.match(issues[0]!.message, /SQL Server \(dialect mssql\) only/);
  });

  it('is refused together with generatedKey: true, naming the path', () => {
    const issues = issuesOf(pipeline('mssql', '        generatedKey: true\n        identityInsert: true\n'));
    assert.deepEqual(issues.map((i) => i.path), [PATH]);
    assert.match(issues[0]!.message, /contradicts generatedKey: true/);
    // Both problems at once on a postgres system.
    assert.deepEqual(issuesOf(pipeline('postgres', '        generatedKey: true\n        identityInsert: true\n')).map((i) => i.path), [PATH, PATH]);
  });

  it('must be a boolean', () => {
    assert.deepEqual(issuesOf(pipeline('mssql', '        identityInsert: sometimes\n')).map((i) => i.path), [PATH]);
  });
});
