import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../../apps/sync-ctl/src/commands';
import type { ValidationReport } from '../../../apps/sync-ctl/src/commands/validate.command';
import { dispatch } from '../../../apps/sync-ctl/src/dispatcher';
import { repoRoot } from '../../support/test-env';
import { loadEnv } from '@sync/config';

const USERS = path.join(repoRoot, 'test', 'fixtures', 'mappings', 'users.pipeline.yaml');
const usersYaml = readFileSync(USERS, 'utf8');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await dispatch(COMMANDS, argv, { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`), pipelineFile: '/nonexistent/pipeline.yaml', env: loadEnv({}) });
  return { code, out, err };
}

function pipeline(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sync-ctl-validate-')), 'pipeline.yaml');
  writeFileSync(file, text);
  return file;
}

async function report(file: string): Promise<{ code: number; report: ValidationReport }> {
  const { code, out } = await run('validate', file, '--json');
  return { code, report: JSON.parse(out) as ValidationReport };
}

describe('sync-ctl validate', () => {
  it('accepts a valid pipeline (exit 0) and lists cross-check warnings without failing', async () => {
    const { code, report: r } = await report(USERS);
    assert.equal(code, 0);
    assert.equal(r.valid, true);
    assert.deepEqual(r.checks, ['pipeline', 'mappings']);
    assert.ok(r.problems.every((p) => p.severity === 'warning'));
    assert.ok(r.problems.some((p) => p.path === 'replication[0]' && /crm\.public\.customers get no key: key column\(s\) id/.test(p.message)));
  });

  it('reports errors of the file itself with path, line and column (exit 2)', async () => {
    const { code, report: r } = await report(pipeline(usersYaml.replace('key: [CustomerNo]', 'key: []').replace('capture: { mode: cdc }', 'capture: { mode: cdx }')));
    assert.equal(code, 2);
    assert.equal(r.valid, false);
    assert.deepEqual(r.checks, ['pipeline']);
    assert.deepEqual(
      r.problems.map((p) => [p.severity, p.check, p.path]),
      [
        ['error', 'pipeline', 'systems.erp.tables[0].key'],
        ['error', 'pipeline', 'systems.erp.tables[0].capture.mode'],
      ],
    );
    assert.ok(r.problems.every((p) => typeof p.line === 'number' && typeof p.column === 'number'));
  });

  it('reports a broken mappings section, which only domain-transform used to check', async () => {
    const { code, report: r } = await report(pipeline(usersYaml.replace('target: { system: crm, table: users }\n        op: delete', 'target: { system: crm, table: nope }\n        op: delete')));
    assert.equal(code, 2);
    assert.deepEqual(r.problems.map((p) => [p.check, p.path, p.message]), [['mappings', 'mappings.users.reverse[2].target.table', 'system crm declares no table nope']]);
  });

  it('cross-checks: reverse and replication columns and foreign keys must exist on their tables', async () => {
    const broken = usersYaml
      .replace("          email: email\n          active:", "          emial: email\n          active:")
      .replace('references:\n          manager_id: managerId', 'references:\n          boss_id: managerId')
      .replace("        key: [CustomerNo]\n", "        key: [CustomerNo]\n        columns: [CustomerNo, CustomerName]\n");
    const { code, report: r } = await report(pipeline(broken));
    assert.equal(code, 2);
    const errors = r.problems.filter((p) => p.severity === 'error').map((p) => [p.path, p.message]);
    assert.deepEqual(errors, [
      ['mappings.users.reverse[0].columns.emial', 'crm.public.users has no column emial in its columns (id, name, email, street, city, zip, active, manager_id, updated_at)'],
      ['mappings.users.reverse[0].references.boss_id', 'crm.public.users declares no foreign key on boss_id (foreign keys: manager_id)'],
      ['replication[0].columns.city', "source column City is not in erp.dbo.Customer's columns (CustomerNo, CustomerName)"],
    ]);
  });

  it('a reverse rule that writes the key, or a table with generatedKey, is not warned about', async () => {
    const fixed = usersYaml.replace('          name: name\n          email: email\n          active:', '          id: { expr: legacyId, type: integer }\n          name: name\n          email: email\n          active:');
    const { report: r } = await report(pipeline(fixed));
    assert.deepEqual(r.problems.map((p) => p.path), ['mappings.users.reverse[1]', 'replication[0]']);
  });

  it('checks the verify section when there is one', async () => {
    const { code, report: r } = await report(pipeline(`${usersYaml}\nverify:\n  entities: {}\n`));
    assert.equal(code, 2);
    assert.deepEqual(r.checks, ['pipeline', 'mappings', 'verify']);
    assert.deepEqual(r.problems.filter((p) => p.severity === 'error').map((p) => p.path), ['verify.newSide.connection.url', 'verify.entities']);
  });

  it('prints one line per problem and a summary; takes the file as PIPELINE or --pipeline, not both', async () => {
    const text = await run('validate', '--pipeline', pipeline(usersYaml.replace('version: 1', 'version: 2')));
    assert.equal(text.code, 2);
    assert.match(text.out, /^error \[pipeline\] version: must be 1 \(the only pipeline file version\) \(.*pipeline\.yaml:5:1\)$/m);
    assert.match(text.err, /INVALID \(1 error\(s\), 0 warning\(s\); checked: pipeline\)/);
    const both = await run('validate', USERS, '--pipeline', USERS);
    assert.equal(both.code, 2);
    assert.match(both.err, /name the pipeline file once/);
    const missing = await run('validate');
    assert.equal(missing.code, 2);
    assert.match(missing.out, /cannot read \/nonexistent\/pipeline\.yaml/);
  });
});
