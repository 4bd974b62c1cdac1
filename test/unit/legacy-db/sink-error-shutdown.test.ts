import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyPostgresError } from '@sync/legacy-db';
import { classifyMssqlError } from '../../../libs/legacy-db/src/mssql/mssql-sink-error';

// A pool closing under a batch is the process stopping, never the command's fault: a `data`
// answer here dead-lettered good commands during a rolling update.
describe('sink errors raised while the process shuts down', () => {
  it('pg: a pool that was ended is an environment failure', () => {
    assert.equal(classifyPostgresError(new Error('Cannot use a pool after calling end on the pool')).kind, 'environment');
  });

  it('pg: the server shutting down (57P01 admin shutdown, 57P03 cannot connect now) is an environment failure', () => {
    assert.equal(classifyPostgresError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })).kind, 'environment');
    assert.equal(classifyPostgresError(Object.assign(new Error('the database system is shutting down'), { code: '57P03' })).kind, 'environment');
  });

  it('pg and SQL Server: "shutdown in progress" is an environment failure', () => {
    assert.equal(classifyPostgresError(new Error('shutdown in progress')).kind, 'environment');
    assert.equal(classifyMssqlError(new Error('Shutdown in progress. Please retry later.')).kind, 'environment');
  });

  it('a constraint violation is still data', () => {
    assert.equal(classifyPostgresError(Object.assign(new Error('null value in column "name" violates not-null constraint'), { code: '23502' })).kind, 'data');
  });
});
