import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorKind, sqlStateKind, sqlStateOf } from '@sync/errors';
import { keymapFailure } from '../../../apps/id-translation/src/keymap-failure';

describe('SQLSTATE classification of key-map errors', () => {
  it('data exceptions and integrity violations are data; connection, resources, shutdown, deadlock are environment', () => {
    const cases: Array<[string, string]> = [
      ['22021', 'data'], // invalid byte sequence (a NUL in text)
      ['22P05', 'data'], // untranslatable character (\u0000 in jsonb)
      ['22001', 'data'], // value too long
      ['23505', 'data'],
      ['23502', 'data'],
      ['08006', 'environment'],
      ['53300', 'environment'], // too many connections
      ['57P01', 'environment'], // admin shutdown
      ['57014', 'environment'], // query cancelled
      ['40001', 'environment'],
      ['40P01', 'environment'],
      ['55P03', 'environment'],
      ['25006', 'environment'],
      ['42501', 'environment'],
      ['42P01', 'schema'],
      ['42703', 'schema'],
      ['42601', 'unknown'],
    ];
    for (const [code, kind] of cases) assert.equal(sqlStateKind(code), kind, code);
    assert.equal(sqlStateKind(undefined), 'unknown');
  });

  it('finds the SQLSTATE on a driver error, a TypeORM wrapper or a cause', () => {
    assert.equal(sqlStateOf(Object.assign(new Error('x'), { code: '22021' })), '22021');
    assert.equal(sqlStateOf(Object.assign(new Error('x'), { driverError: { code: '23505' } })), '23505');
    assert.equal(sqlStateOf(new Error('outer', { cause: Object.assign(new Error('x'), { code: '08006' }) })), '08006');
    assert.equal(sqlStateOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), undefined);
  });

  it('key-map failures: a refused value is a data error, a lost connection an environment error', () => {
    const nul = keymapFailure('key map lookup failed', Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' }));
    assert.equal(errorKind(nul), 'data');
    assert.match((nul as Error).message, /SQLSTATE 22021/);
    assert.equal(errorKind(keymapFailure('x', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))), 'environment');
    assert.equal(errorKind(keymapFailure('x', new Error('Connection terminated unexpectedly'))), 'environment');
    assert.equal(errorKind(keymapFailure('x', Object.assign(new Error('gone'), { code: '57P01' }))), 'environment');
    assert.equal(errorKind(keymapFailure('x', Object.assign(new Error('no table'), { code: '42P01' }))), 'schema');
  });
});
