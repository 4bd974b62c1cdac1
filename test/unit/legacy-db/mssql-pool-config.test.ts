import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LegacyDbOptions } from '@sync/legacy-db';
import { mssqlPoolConfig } from '../../../libs/legacy-db/src/mssql/mssql.legacy-db';

const options = (url: string, extra: Partial<LegacyDbOptions> = {}): LegacyDbOptions => ({
  system: 'erp',
  dialect: 'mssql',
  url: { reveal: () => url },
  poolSize: 4,
  ...extra,
});

describe('mssqlPoolConfig', () => {
  it('reads mssql:// URLs (mssql itself leaves the server empty for them)', () => {
    const c = mssqlPoolConfig(options('mssql://sa:Sync_Passw0rd@127.0.0.1:1433/master'));
    assert.deepEqual([c.server, c.port, c.user, c.password, c.database], ['127.0.0.1', 1433, 'sa', 'Sync_Passw0rd', 'master']);
  });

  it('decodes escaped user names and passwords, and lets options override the database', () => {
    const c = mssqlPoolConfig(options('sqlserver://app%40corp:p%3Ass%2Fw@db.example:14330/legacy', { database: 'it_db' }));
    assert.deepEqual([c.server, c.port, c.user, c.password, c.database], ['db.example', 14330, 'app@corp', 'p:ss/w', 'it_db']);
  });

  it('still reads ADO-style connection strings', () => {
    const c = mssqlPoolConfig(options('Server=10.0.0.5,1444;Database=erp;User Id=sync;Password=x'));
    assert.deepEqual([c.server, c.port, c.user, c.database], ['10.0.0.5', 1444, 'sync', 'erp']);
  });

  it('refuses a URL with a query string instead of ignoring it (TLS is set under connection.tls)', () => {
    assert.throws(() => mssqlPoolConfig(options('mssql://sa:pw@127.0.0.1:1433/master?encrypt=true')), /systems\.erp\.connection\.url takes no query string/);
  });
});
