import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { mssqlImportLeaseDdl, mssqlImportLeaseSql } from '../../../libs/legacy-db/src/mssql/mssql-import-lease';
import { postgresImportLeaseDdl, postgresImportLeaseSql } from '../../../libs/legacy-db/src/postgres/postgres-import-lease';
import type { MssqlStatement } from '../../../libs/legacy-db/src/mssql/mssql-statement';
import { loadTsqlParser, parseTsql } from './tsql-parser';

function parsesAsOne(s: MssqlStatement): void {
  assert.equal(parseTsql(s.text), 1, s.text);
  const used = new Set([...s.text.matchAll(/@(\w+)/g)].map((m) => m[1]));
  assert.deepEqual([...used].sort(), s.params.map((p) => p.name).sort(), s.text);
}

describe('import lease statements (fencing of legacy-import replicas)', () => {
  before(loadTsqlParser);

  it('PostgreSQL: a takeover increments the epoch (1 for a new unit) and returns the saved state, in one statement', () => {
    const s = postgresImportLeaseSql.takeOver('sync ops', 'crm.public.users', 'pod-a');
    assert.equal(
      s.text,
      `INSERT INTO "sync ops"."import_lease" AS l ("entity", "epoch", "owner") VALUES ($1, 1, $2)
ON CONFLICT ("entity") DO UPDATE SET "epoch" = l."epoch" + 1, "owner" = EXCLUDED."owner", "updated_at" = clock_timestamp()
RETURNING "epoch", "state"`,
    );
    assert.deepEqual(s.values, ['crm.public.users', 'pod-a']);
  });

  it('PostgreSQL: a state is saved only under the epoch it was taken with', () => {
    const s = postgresImportLeaseSql.saveState('sync', 'crm.public.users', 7, '{"phase":"streaming","position":"9"}');
    assert.equal(s.text, 'UPDATE "sync"."import_lease" SET "state" = $3, "updated_at" = clock_timestamp() WHERE "entity" = $1 AND "epoch" = $2');
    assert.deepEqual(s.values, ['crm.public.users', 7, '{"phase":"streaming","position":"9"}']);
    assert.match(postgresImportLeaseDdl('sync').join('\n'), /CREATE TABLE IF NOT EXISTS "sync"\."import_lease" \(\n  "entity" text PRIMARY KEY,\n  "epoch" bigint NOT NULL/);
  });

  it('SQL Server: takeover, epoch read and fenced save parse, with every parameter bound', () => {
    const bump = mssqlImportLeaseSql.bump('sync', 'erp.dbo.Items', 'pod-a');
    assert.equal(bump.text, 'UPDATE [sync].[import_lease] SET [epoch] = [epoch] + 1, [owner] = @owner, [updated_at] = SYSUTCDATETIME() OUTPUT inserted.[epoch], inserted.[state] WHERE [entity] = @entity');
    const save = mssqlImportLeaseSql.saveState('sync', 'erp.dbo.Items', 2, '{}');
    assert.equal(save.text, 'UPDATE [sync].[import_lease] SET [state] = @state, [updated_at] = SYSUTCDATETIME() WHERE [entity] = @entity AND [epoch] = @epoch');
    assert.deepEqual(save.params.map((p) => [p.name, p.type, p.value]), [['entity', 'nvarchar', 'erp.dbo.Items'], ['epoch', 'bigint', 2], ['state', 'nvarchar', '{}']]);
    for (const s of [bump, save, mssqlImportLeaseSql.insert('sync', 'erp.dbo.Items', 'pod-a'), mssqlImportLeaseSql.currentEpoch('sync', 'erp.dbo.Items')]) parsesAsOne(s);
  });

  it('SQL Server: the lease table DDL parses and is idempotent', () => {
    const ddl = mssqlImportLeaseDdl('sync');
    assert.match(ddl[1]!, /^IF OBJECT_ID\(N'\[sync\]\.\[import_lease\]', N'U'\) IS NULL\nCREATE TABLE \[sync\]\.\[import_lease\]/);
    for (const sql of ddl) assert.ok(parseTsql(sql) >= 1, sql);
  });
});
