import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { AppProcess } from '../support/app-process';
import { repoRoot, testDatabaseUrl } from '../support/test-env';

// A pipeline whose systems are fine but whose mappings section is not: before issue 17 only
// domain-transform refused it, the three other apps started. Nothing here needs Kafka: an app that
// wrongly started would keep retrying the unreachable broker and be killed at the deadline.
const dir = mkdtempSync(path.join(tmpdir(), 'invalid-pipeline-'));
const pipelineFile = path.join(dir, 'pipeline.yaml');
const valid = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'mappings', 'users.pipeline.yaml'), 'utf8');
writeFileSync(pipelineFile, valid.replace('target: { system: crm, table: users }\n        op: delete', 'target: { system: crm, table: no_such_table }\n        op: delete'));

describe('every app refuses a pipeline with a broken mappings section', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const app of ['legacy-import', 'id-translation', 'domain-transform', 'legacy-writeback']) {
    it(`${app} exits with code 2 naming the bad path`, async () => {
      const proc = await AppProcess.start(app, {
        SYNC_APP: app,
        PIPELINE_FILE: pipelineFile,
        KAFKA_BROKERS: '127.0.0.1:9',
        KEYMAP_DATABASE_URL: testDatabaseUrl('postgres'),
        CRM_DATABASE_URL: testDatabaseUrl('postgres'),
        ERP_DATABASE_URL: 'mssql://sa:x@127.0.0.1:9/erp',
      });
      const code = await proc.waitExit(20_000);
      assert.equal(code, 2, proc.logs().slice(-3000));
      assert.match(proc.logs(), /invalid configuration/);
      assert.match(proc.logs(), /mappings\.users\.reverse\[2\]\.target\.table: system crm declares no table no_such_table/);
    });
  }
});
