import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigValidationError, parsePipeline, resolveLegacyDbOptions, type SystemConfig } from '@sync/config';

const dir = mkdtempSync(join(tmpdir(), 'config-db-'));
const CA = join(dir, 'ca.pem');
writeFileSync(CA, 'CA-PEM\n');

function system(connection: string, dialect = 'postgres'): SystemConfig {
  const pipeline = parsePipeline(
    `version: 1
systems:
  crm:
    dialect: ${dialect}
    connection: ${connection}
    tables: [{ name: users, key: [id], capture: { mode: trigger } }]
`,
    'db.yaml',
  );
  const crm = pipeline.systems.get('crm');
  assert.ok(crm);
  return crm;
}

describe('resolveLegacyDbOptions', () => {
  it('reads the password and TLS files of a host connection, with the dialect default port', () => {
    const settings = resolveLegacyDbOptions(
      system(`{ host: db.local, database: legacy_crm, user: { env: CRM_USER }, password: { env: CRM_PW }, tls: { ca: { file: ${CA} } } }`, 'mssql'),
      { CRM_USER: 'sync', CRM_PW: 'db-pw-77' },
    );
    assert.equal(settings.dialect, 'mssql');
    assert.equal(settings.host, 'db.local');
    assert.equal(settings.port, 1433);
    assert.equal(settings.database, 'legacy_crm');
    assert.equal(settings.user, 'sync');
    assert.equal(settings.password?.reveal(), 'db-pw-77');
    assert.deepEqual(settings.tls, { ca: 'CA-PEM', rejectUnauthorized: true });
    assert.equal(settings.poolSize, 10);
    assert.ok(!JSON.stringify(settings).includes('db-pw-77'));
  });

  it('reads a url connection', () => {
    const url = 'postgres://sync:pw@db/crm';
    const settings = resolveLegacyDbOptions(system('{ url: { env: CRM_URL } }'), { CRM_URL: url });
    assert.equal(settings.url?.reveal(), url);
    assert.equal(settings.host, undefined);
    assert.equal(settings.tls, undefined);
  });

  it('lists every secret it cannot read, by config path', () => {
    assert.throws(
      () =>
        resolveLegacyDbOptions(
          system(`{ url: { env: CRM_URL }, password: { file: ${join(dir, 'missing')} } }`),
          {},
        ),
      (error: unknown) => {
        assert.ok(error instanceof ConfigValidationError);
        assert.deepEqual(
          error.issues.map((issue) => issue.path),
          ['systems.crm.connection.password', 'systems.crm.connection.url'],
        );
        return true;
      },
    );
  });
});
