import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import { changelogDdl, createCaptureSource, createLegacyDb, type LegacyDb } from '@sync/legacy-db';
import { MssqlCdcSource } from '../../../libs/legacy-db/src/mssql/mssql-cdc.source';
import { MssqlChangelogSource } from '../../../libs/legacy-db/src/mssql/mssql-changelog.source';
import { MssqlTriggerSource } from '../../../libs/legacy-db/src/mssql/mssql-trigger.source';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { repoRoot } from '../../support/test-env';

const pipeline = parsePipeline(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'pipeline', 'valid.pipeline.yaml'), 'utf8'), 'valid.pipeline.yaml');

describe('capture source per dialect and mode', () => {
  it('builds the SQL Server sources for changelog and cdc tables without connecting', async () => {
    const erp = pipeline.systems.get('erp')!;
    const db: LegacyDb = createLegacyDb({ system: 'erp', dialect: 'mssql', host: '127.0.0.1', port: 1, poolSize: 1 }, () => undefined);
    try {
      assert.ok(createCaptureSource(db, erp, erp.tables[0]!) instanceof MssqlChangelogSource);
      assert.ok(createCaptureSource(db, erp, erp.tables[1]!) instanceof MssqlCdcSource);
      assert.ok(createCaptureSource(db, erp, { ...erp.tables[0]!, capture: { mode: 'trigger', batchSize: 10, pollIntervalMs: 100, snapshotChunkSize: 10, retentionMs: 0, notify: true, triggerLevel: 'statement' } }) instanceof MssqlTriggerSource);
    } finally {
      await db.close();
    }
  });

  it('refuses cdc on PostgreSQL', async () => {
    const crm = pipeline.systems.get('crm')!;
    const db = createLegacyDb({ system: 'crm', dialect: 'postgres', host: '127.0.0.1', port: 1, poolSize: 1 }, () => undefined);
    try {
      assert.throws(() => createCaptureSource(db, crm, { ...crm.tables[0]!, capture: { mode: 'cdc', batchSize: 1, pollIntervalMs: 10, snapshotChunkSize: 1, captureInstance: 'x', resnapshotOnGap: false } }), /cdc capture needs SQL Server/);
    } finally {
      await db.close();
    }
  });

  it('prints DDL for both dialects', () => {
    const pg = changelogDdl(pipeline.systems.get('crm')!).join('\n');
    assert.match(pg, /CREATE TABLE IF NOT EXISTS "sync"\."public_users_changes"/);
    assert.match(pg, /"tx" xid8 NOT NULL DEFAULT pg_current_xact_id\(\)/);
    assert.match(pg, /current_setting\('sync\.origin', true\)/);
    const ms = changelogDdl(pipeline.systems.get('erp')!).join('\n');
    assert.match(ms, /rowversion/);
  });
});

describe('NOTIFY wake-up in the PostgreSQL trigger', () => {
  it('is off by default and can be turned on per table, at both trigger levels', () => {
    const crm = pipeline.systems.get('crm')!;
    assert.doesNotMatch(changelogDdl(crm).join('\n'), /pg_notify/);
    for (const triggerLevel of ['statement', 'row'] as const) {
      const loud = { ...crm, tables: crm.tables.map((t) => ({ ...t, capture: { mode: 'trigger' as const, batchSize: 10, pollIntervalMs: 100, snapshotChunkSize: 10, retentionMs: 0, notify: true, triggerLevel } })) };
      assert.match(changelogDdl(loud).join('\n'), /pg_notify\('sync_changes'/, triggerLevel);
    }
  });
});
