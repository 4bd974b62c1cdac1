import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../../apps/sync-ctl/src/commands';
import { dispatch } from '../../../apps/sync-ctl/src/dispatcher';
import { repoRoot } from '../../support/test-env';
import { loadEnv } from '@sync/config';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'mappings');
const PIPELINE = path.join(fixtures, 'users.pipeline.yaml');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await dispatch(COMMANDS, argv, { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`), pipelineFile: PIPELINE, env: loadEnv({}) });
  return { code, out, err };
}

function tempFile(content: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sync-ctl-map-')), 'sample.json');
  writeFileSync(file, content);
  return file;
}

describe('sync-ctl map', () => {
  it('prints the domain events a keyed change produces, with headers', async () => {
    const { code, out } = await run('map', '--input', path.join(fixtures, 'keyed-user-update.json'));
    assert.equal(code, 0);
    const result = JSON.parse(out) as { outputs: Array<{ topic: string; headers: Record<string, string>; value: unknown }>; skipped: unknown[] };
    assert.deepEqual(result.outputs.map((o) => [o.topic, o.headers['ce_type']]), [['domain.user.v1', 'AddressChanged']]);
    assert.deepEqual(result.outputs[0]!.value, { street: '9 High St', city: 'York', zip: '12345' });
    assert.deepEqual(result.skipped, [{ rule: 'users.UserChanged', reason: 'unchanged' }]);
  });

  it('prints the write-back requests of a domain event, also from a structured CloudEvent', async () => {
    const message = await run('map', '--input', path.join(fixtures, 'domain-user-changed.json'));
    assert.equal(message.code, 0);
    const cloudEvent = tempFile(JSON.stringify({ specversion: '1.0', id: 'ce-9', source: '/svc', type: 'UserRemoved', subject: 'gid-1', data: {} }));
    const structured = await run('map', '--input', cloudEvent);
    assert.equal(structured.code, 0, structured.err);
    const out = JSON.parse(structured.out) as { outputs: Array<{ topic: string; value: { op: string; globalId: string } }> };
    assert.deepEqual(out.outputs.map((o) => [o.topic, o.value.op, o.value.globalId]), [['writeback.crm.public.users', 'delete', 'gid-1']]);
  });

  it('exits 2 for a missing or malformed input and for an input that would be dead-lettered', async () => {
    assert.equal((await run('map')).code, 2);
    assert.equal((await run('map', '--input', '/nonexistent/sample.json')).code, 2);
    assert.equal((await run('map', '--input', tempFile('{nope'))).code, 2);
    const invalid = await run('map', '--input', tempFile(JSON.stringify({ topic: 'domain.user.v1', headers: { ce_id: '1', ce_source: '/s', ce_type: 'UserChanged', ce_specversion: '1.0', ce_subject: 'g' }, value: { name: 7 } })));
    assert.equal(invalid.code, 2);
    assert.match(invalid.err, /would be dead-lettered: UserChanged does not match its schema/);
  });

  it('exits 2 naming the path of a bad mapping, and shows help', async () => {
    const bad = tempFile('');
    writeFileSync(bad, (await import('node:fs')).readFileSync(PIPELINE, 'utf8').replace('city: city\n', 'city: $uppercase(\n'));
    const res = await run('map', '--pipeline', bad, '--input', path.join(fixtures, 'keyed-user-update.json'));
    assert.equal(res.code, 2);
    assert.match(res.err, /mappings\.users\.events\[1\]\.fields\.city: invalid JSONata expression/);
    const help = await run('map', '--help');
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: sync-ctl map --input FILE/);
  });
});
