import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startupSummary } from '@sync/app-core';
import { loadEnv, parsePipeline } from '@sync/config';
import { repoRoot } from '../../support/test-env';

describe('the one start-up line', () => {
  it('names the version, the entities and the effective settings, secrets as ***', () => {
    const pipeline = parsePipeline('version: 1\nsystems:\n  crm:\n    dialect: postgres\n    connection:\n      url: { env: CRM_URL }\n    tables:\n      - name: users\n        key: [id]\n', 'test');
    const summary = startupSummary(loadEnv({ SYNC_APP: 'legacy-import', ADMIN_TOKEN: 'tok-s3cr3t', LOG_LEVEL_MODULES: 'kafkajs=warn' }), pipeline);
    const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
    assert.equal(summary['version'], version);
    assert.equal(summary['port'], 8081);
    assert.deepEqual(summary['entities'], ['crm.public.users']);
    const env = summary['env'] as Record<string, string>;
    assert.equal(env['admin.token'], '***');
    assert.equal(env['log.modules.kafkajs'], 'warn');
    assert.ok(!JSON.stringify(summary).includes('tok-s3cr3t'));
  });
});
