import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadEnv } from '@sync/config';
import { COMMANDS } from '../../../apps/sync-ctl/src/commands';
import type { ValidationReport } from '../../../apps/sync-ctl/src/commands/validate.command';
import { dispatch } from '../../../apps/sync-ctl/src/dispatcher';
import { LegacyDatabase } from '../../support/legacy-database';

const PIPELINE = (urlVar: string): string => `version: 1
systems:
  crm:
    dialect: postgres
    connection: { url: { env: ${urlVar} } }
    tables:
      - name: users
        key: [id]
        columns: [id, name, nickname, score, born, last_seen]
      - name: orders
        key: [id]
      - name: invoices
        key: [id]
mappings:
  users:
    source: { system: crm, table: users }
    aggregate: h_validate_user
    events:
      - type: UserChanged
        fields: { name: name }
    reverse:
      - event: UserChanged
        target: { system: crm, table: users }
        columns:
          id: { expr: legacyId, type: integer }
          name: name
          score: { expr: score, type: date }
          born: { expr: born, type: date }
          last_seen: { expr: lastSeen, type: date }
`;

async function validate(file: string): Promise<{ code: number; report?: ValidationReport; err: string }> {
  let out = '';
  let err = '';
  const code = await dispatch(COMMANDS, ['validate', file, '--db', '--json'], { out: (t) => void (out += t), err: (t) => void (err += t), pipelineFile: file, env: loadEnv({}) });
  return { code, err, ...(out ? { report: JSON.parse(out) as ValidationReport } : {}) };
}

describe('sync-ctl validate --db (real PostgreSQL)', () => {
  let db: LegacyDatabase;
  let file: string;

  before(async () => {
    db = await LegacyDatabase.create('h_validate');
    await db.exec('CREATE TABLE users (id int PRIMARY KEY, name text, score int, born date, last_seen timestamp(6))');
    await db.exec('CREATE TABLE orders (id int, total numeric)'); // no primary key, no unique index
    process.env['H_VALIDATE_CRM_URL'] = db.url;
    process.env['H_VALIDATE_DOWN_URL'] = 'postgres://postgres@127.0.0.1:9/nothing';
    file = path.join(mkdtempSync(path.join(tmpdir(), 'validate-db-')), 'pipeline.yaml');
    writeFileSync(file, PIPELINE('H_VALIDATE_CRM_URL'));
  });

  after(async () => {
    await db.drop();
  });

  it('finds missing tables and columns, a key that is not unique, and typed columns that do not fit (exit 2)', async () => {
    const { code, report } = await validate(file);
    assert.equal(code, 2);
    assert.deepEqual(report!.checks, ['pipeline', 'mappings', 'database']);
    assert.deepEqual(
      report!.problems.map((p) => [p.severity, p.path, p.message]),
      [
        ['error', 'systems.crm.tables[0].columns', 'column nickname does not exist in crm.public.users (columns: id, name, score, born, last_seen)'],
        ['error', 'mappings.users.reverse[0].columns.score.type', 'a date does not fit column score of crm.public.users (int4)'],
        ['warning', 'mappings.users.reverse[0].columns.born.type', 'type date yields a timestamp, column born of crm.public.users is a date: its time of day would be dropped (convert with an expression, e.g. $substring(x, 0, 10))'],
        ['error', 'systems.crm.tables[1].key', '[id] is neither the primary key nor a unique index of crm.public.orders (primary key: none)'],
        ['error', 'systems.crm.tables[2].name', 'table public.invoices does not exist in the crm database'],
      ],
    );
  });

  it('passes once the database matches (exit 0)', async () => {
    await db.exec('ALTER TABLE users ADD COLUMN nickname text, ALTER COLUMN score TYPE timestamptz USING now()');
    await db.exec('CREATE UNIQUE INDEX ON orders (id)');
    await db.exec('CREATE TABLE invoices (id bigint PRIMARY KEY)');
    const { code, report } = await validate(file);
    assert.equal(code, 0, JSON.stringify(report));
    assert.deepEqual(report!.problems.map((p) => p.severity), ['warning']);
  });

  it('an unreachable legacy database exits 3 naming the system', async () => {
    const down = path.join(path.dirname(file), 'down.yaml');
    writeFileSync(down, PIPELINE('H_VALIDATE_DOWN_URL'));
    const { code, err } = await validate(down);
    assert.equal(code, 3);
    assert.match(err, /legacy database of system crm unreachable/);
  });
});
