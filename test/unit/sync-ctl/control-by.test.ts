import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadEnv } from '@sync/config';
import { COMMANDS } from '../../../apps/sync-ctl/src/commands';
import { EXIT } from '../../../apps/sync-ctl/src/command';
import { dispatch } from '../../../apps/sync-ctl/src/dispatcher';

// Every app dead-letters a control record whose `by` is empty. `sync-ctl enable x --by "$USER"`
// with USER unset used to write exactly that, print "enabled", exit 0 and change nothing; the
// runbook (docs/adding-an-entity.md) used that very command. Now it is a usage error (exit 2)
// before any connection: the broker below does not exist, so reaching Kafka would be exit 3.
const PIPELINE = `version: 1
kafka: { brokers: ["127.0.0.1:1"] }
systems:
  crm:
    dialect: postgres
    connection: { url: { env: CRM_DATABASE_URL } }
    tables:
      - name: users
        key: [id]
`;

async function run(...argv: string[]): Promise<{ code: number; err: string }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sync-ctl-by-')), 'pipeline.yaml');
  writeFileSync(file, PIPELINE);
  let err = '';
  const code = await dispatch(COMMANDS, [...argv, '--pipeline', file, '--connect-timeout', '0.2'], { out: () => undefined, err: (t) => void (err += `${t}\n`), pipelineFile: file, env: loadEnv({ CRM_DATABASE_URL: 'postgres://u@127.0.0.1:1/crm' }) });
  return { code, err };
}

describe('sync-ctl control commands: --by', () => {
  for (const command of ['enable', 'disable', 'pause', 'resume', 'resnapshot']) {
    it(`${command} --by "" is refused with exit 2 before connecting`, async () => {
      const { code, err } = await run(command, 'crm.public.users', '--by', '');
      assert.equal(code, EXIT.usage, err);
      assert.match(err, /--by: must not be empty/);
      const blank = await run(command, 'crm.public.users', '--by', '  ');
      assert.equal(blank.code, EXIT.usage, blank.err);
    });
  }

  it('a non-empty --by gets past the arguments (and then needs Kafka: exit 3 here)', async () => {
    const { code, err } = await run('enable', 'crm.public.users', '--by', 'ops');
    assert.equal(code, EXIT.unavailable, err);
  });
});
