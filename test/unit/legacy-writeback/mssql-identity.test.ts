import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TableConfig } from '@sync/config';
import { keyString, SinkError, type SinkCommand } from '@sync/legacy-db';
import { explicitIdentityInsert, mssqlKeyedWrite } from '../../../libs/legacy-db/src/mssql/mssql-identity';
import { originRuns } from '../../../libs/legacy-db/src/core/writeback-plan';
import { customers, orderLines } from '../legacy-db/mssql-fixtures';

let seq = 0;
function keyed(op: 'upsert' | 'delete', id: number, origin = 'svc:a'): { command: SinkCommand; key: Record<string, unknown> } {
  const command: SinkCommand = { commandId: `c${++seq}`, op, globalId: `g${id}`, key: { id }, columns: op === 'upsert' ? { name: 'n' } : {}, occurredAt: '2024-01-01T00:00:00Z', origin };
  return { command, key: { id } };
}

const existing = (table: TableConfig, ...ids: number[]): Set<string> => new Set(ids.map((id) => keyString(table, { id })));

describe('SQL Server write-back: identity keys and identityInsert', () => {
  it('chooses the write per table: MERGE, MERGE under IDENTITY_INSERT only when configured, else update-only', () => {
    assert.equal(mssqlKeyedWrite(customers, 'id'), 'update-existing');
    assert.equal(mssqlKeyedWrite({ ...customers, identityInsert: true }, 'id'), 'identity-insert');
    assert.equal(mssqlKeyedWrite({ ...customers, generatedKey: true }, 'id'), 'update-existing');
    assert.equal(mssqlKeyedWrite(customers, 'ID'), 'update-existing', 'SQL Server names compare case-insensitively');
    assert.equal(mssqlKeyedWrite(customers, undefined), 'merge');
    assert.equal(mssqlKeyedWrite(customers, 'row_no'), 'merge', 'an identity column outside the key is not the key');
    assert.equal(mssqlKeyedWrite({ ...orderLines, identityInsert: true }, undefined), 'merge');
  });

  it('lets commands with a key update rows that exist', () => {
    const runs = originRuns([keyed('upsert', 1), keyed('upsert', 2), keyed('delete', 2)]);
    assert.equal(explicitIdentityInsert(customers, 'id', runs, existing(customers, 1, 2)), undefined);
  });

  it('refuses as poison a command that would insert an explicit identity value, naming it and the flag', () => {
    const missing = keyed('upsert', 9);
    const err = explicitIdentityInsert(customers, 'id', originRuns([keyed('upsert', 1), missing]), existing(customers, 1));
    assert.ok(err instanceof SinkError);
    assert.equal(err.kind, 'data');
    assert.match(err.message, new RegExp(`^command ${missing.command.commandId}: erp\\.dbo\\.customer has no row with key \\(id\\) = \\(9\\)`));
    assert.match(err.message, /id is an IDENTITY column/);
    assert.match(err.message, /identityInsert: true/);
  });

  it('sees a row deleted earlier in the batch as gone, in the same origin run and across runs', () => {
    const again = keyed('upsert', 1);
    const sameRun = explicitIdentityInsert(customers, 'id', originRuns([keyed('delete', 1), again]), existing(customers, 1));
    assert.match(sameRun?.message ?? '', new RegExp(`^command ${again.command.commandId}:`));
    const later = keyed('upsert', 1, 'svc:b');
    const acrossRuns = explicitIdentityInsert(customers, 'id', originRuns([keyed('delete', 1, 'svc:a'), later]), existing(customers, 1));
    assert.match(acrossRuns?.message ?? '', new RegExp(`^command ${later.command.commandId}:`));
  });
});
