import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigValidationError, mssqlUrlProblem, parsePipeline, resolveLegacyDbOptions } from '@sync/config';

describe('SQL Server connection URL form', () => {
  it('accepts mssql:// and sqlserver:// URLs with optional port and database, and ADO strings', () => {
    for (const url of [
      'mssql://sa:Sync_Passw0rd@127.0.0.1:1433/master',
      'MSSQL://sa:Passw0rd!@127.0.0.1:1433/master',
      'sqlserver://app%40corp:p%3Ass%2Fw%23x@db.example/legacy',
      'mssql://sync@db.example',
      'mssql://sa:pw@db.example:14330/',
      'Server=10.0.0.5,1444;Database=erp;User Id=sync;Password=x',
    ]) {
      assert.equal(mssqlUrlProblem(url), undefined, url);
    }
  });

  it('refuses query strings (TLS lives under connection.tls), fragments, other schemes, unencoded reserved characters and extra path segments', () => {
    assert.match(mssqlUrlProblem('mssql://sa:Passw0rd!@127.0.0.1:1433/master?encrypt=false') ?? '', /no query string .*connection\.tls/);
    assert.match(mssqlUrlProblem('mssql://sa:pw@host/db#x') ?? '', /no query string or fragment/);
    assert.match(mssqlUrlProblem('postgres://sa:pw@host/db') ?? '', /scheme postgres:\/\/, expected mssql:\/\/ or sqlserver:\/\//);
    assert.match(mssqlUrlProblem('mssql://sa:p#w@host/db') ?? '', /percent-encode/);
    assert.match(mssqlUrlProblem('mssql://sa:pw@host/db/extra') ?? '', /more than a database/);
    assert.match(mssqlUrlProblem('just-a-host') ?? '', /neither a URL nor an ADO connection string/);
  });

  it('is checked when a system connection is resolved, by config path, without printing the URL', () => {
    const erp = (dialect: string) =>
      parsePipeline(`version: 1\nsystems:\n  erp:\n    dialect: ${dialect}\n    connection: { url: { env: ERP_URL } }\n    tables: [{ name: t, key: [id] }]\n`, 'url.yaml').systems.get('erp')!;
    const url = 'mssql://sa:S3cret-77@127.0.0.1:1433/master?encrypt=false';
    assert.throws(
      () => resolveLegacyDbOptions(erp('mssql'), { ERP_URL: url }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigValidationError);
        assert.deepEqual(error.issues.map((i) => i.path), ['systems.erp.connection.url']);
        assert.ok(!error.message.includes('S3cret-77'), error.message);
        return true;
      },
    );
    assert.equal(resolveLegacyDbOptions(erp('mssql'), { ERP_URL: 'mssql://sa:S3cret-77@127.0.0.1:1433/master' }).url?.reveal(), 'mssql://sa:S3cret-77@127.0.0.1:1433/master');
    // PostgreSQL URLs keep their query parameters (sslmode=…): the rule is SQL Server's.
    assert.ok(resolveLegacyDbOptions(erp('postgres'), { ERP_URL: 'postgres://u@h/db?sslmode=require' }).url);
  });
});
