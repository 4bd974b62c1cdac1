import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyPostgresError, type SinkErrorKind } from '@sync/legacy-db';
import { classifyMssqlError } from '../../../libs/legacy-db/src/mssql/mssql-sink-error';

/** What pg raises for a server error: an Error with the SQLSTATE in `code`. */
function pgError(code: string, message = `error ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

/** What mssql raises for a server error: a RequestError (code EREQUEST) with the number and class (level). */
function mssqlError(number: number, message = `error ${number}`, level = 16): Error {
  return Object.assign(new Error(message), { code: 'EREQUEST', number, class: level });
}

describe('PostgreSQL write-back errors by SQLSTATE', () => {
  const table: ReadonlyArray<[string, SinkErrorKind, string]> = [
    ['42501', 'environment', 'insufficient_privilege (a REVOKE)'],
    ['25006', 'environment', 'read_only_sql_transaction (failover, default_transaction_read_only)'],
    ['28000', 'environment', 'invalid_authorization_specification'],
    ['28P01', 'environment', 'invalid_password'],
    ['3D000', 'environment', 'invalid_catalog_name (database gone)'],
    ['55P03', 'environment', 'lock_not_available'],
    ['57014', 'environment', 'query_canceled (statement timeout)'],
    ['57P01', 'environment', 'admin_shutdown'],
    ['08006', 'environment', 'connection_failure'],
    ['40001', 'environment', 'serialization_failure'],
    ['40P01', 'environment', 'deadlock_detected'],
    ['53100', 'environment', 'disk_full'],
    ['53300', 'environment', 'too_many_connections'],
    ['58030', 'environment', 'io_error'],
    ['XX000', 'environment', 'internal_error'],
    ['42703', 'schema', 'undefined_column'],
    ['42P01', 'schema', 'undefined_table'],
    ['3F000', 'schema', 'invalid_schema_name'],
    ['42883', 'schema', 'undefined_function'],
    ['42P10', 'schema', 'ON CONFLICT without a matching unique index'],
    ['42804', 'schema', 'datatype_mismatch (the column type changed under the cached metadata)'],
    ['23503', 'foreign-key', 'foreign_key_violation'],
    ['23505', 'data', 'unique_violation'],
    ['23502', 'data', 'not_null_violation'],
    ['23514', 'data', 'check_violation'],
    ['22P02', 'data', 'invalid_text_representation'],
    ['22001', 'data', 'string_data_right_truncation'],
    ['22003', 'data', 'numeric_value_out_of_range'],
    ['22021', 'data', 'character_not_in_repertoire (NUL)'],
    ['42601', 'data', 'syntax_error'],
    ['P0001', 'data', 'RAISE EXCEPTION in a legacy trigger'],
    ['ZZ999', 'data', 'an unknown code'],
  ];
  for (const [code, kind, what] of table) {
    it(`${code} ${what} is ${kind}`, () => {
      const e = classifyPostgresError(pgError(code));
      assert.equal(e.kind, kind);
      assert.match(e.message, new RegExp(`^${code}: `), 'the message starts with the SQLSTATE');
    });
  }

  it('socket errors and pg plain errors are environment, other plain errors data', () => {
    assert.equal(classifyPostgresError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })).kind, 'environment');
    assert.equal(classifyPostgresError(new Error('Connection terminated unexpectedly')).kind, 'environment');
    assert.equal(classifyPostgresError(new Error('timeout exceeded when trying to connect')).kind, 'environment');
    assert.equal(classifyPostgresError(new Error('Cannot use a pool after calling end on the pool')).kind, 'environment');
    assert.equal(classifyPostgresError(new Error('Client was closed and is not queryable')).kind, 'environment');
    assert.equal(classifyPostgresError(new Error('something else entirely')).kind, 'data');
  });
});

describe('SQL Server write-back errors by number', () => {
  const table: ReadonlyArray<[number, SinkErrorKind, string, string?]> = [
    [229, 'environment', 'permission denied on object', "The UPDATE permission was denied on the object 'kv', database 'crm', schema 'dbo'."],
    [230, 'environment', 'permission denied on column'],
    [262, 'environment', 'permission denied in database'],
    [300, 'environment', 'permission denied on object (server-level)'],
    [297, 'environment', 'the user does not have permission'],
    [916, 'environment', 'principal cannot access the database'],
    [3906, 'environment', 'database is read-only', 'Failed to update database "crm" because the database is read-only.'],
    [976, 'environment', 'availability-group database not accessible'],
    [983, 'environment', 'replica not primary'],
    [18456, 'environment', 'login failed'],
    [4060, 'environment', 'cannot open database'],
    [1205, 'environment', 'deadlock victim'],
    [1222, 'environment', 'lock request timeout'],
    [9002, 'environment', 'transaction log full'],
    [6005, 'environment', 'SHUTDOWN is in progress'],
    [40613, 'environment', 'Azure database unavailable'],
    [207, 'schema', 'invalid column name', "Invalid column name 'nickname'."],
    [208, 'schema', 'invalid object name'],
    [213, 'schema', 'column count does not match the table'],
    [2812, 'schema', 'stored procedure not found'],
    [4121, 'schema', 'function not found'],
    [547, 'foreign-key', 'FOREIGN KEY constraint', 'The INSERT statement conflicted with the FOREIGN KEY constraint "fk_orders_customers".'],
    [547, 'data', 'CHECK constraint', 'The INSERT statement conflicted with the CHECK constraint "ck_total".'],
    [2627, 'data', 'duplicate key (constraint)'],
    [2601, 'data', 'duplicate key (unique index)'],
    [515, 'data', 'NULL into NOT NULL'],
    [8152, 'data', 'string or binary data would be truncated'],
    [2628, 'data', 'string or binary data would be truncated (named column)'],
    [245, 'data', 'conversion failed'],
    [8114, 'data', 'error converting data type'],
    [8115, 'data', 'arithmetic overflow'],
    [50000, 'data', 'RAISERROR from a legacy trigger'],
    [99999, 'data', 'an unknown number'],
  ];
  for (const [number, kind, what, text] of table) {
    it(`${number} ${what} is ${kind}`, () => {
      const e = classifyMssqlError(mssqlError(number, text));
      assert.equal(e.kind, kind);
      assert.match(e.message, new RegExp(`^${number}: `), 'the message starts with the error number');
    });
  }

  it('an unlisted error of level 17 or more (resources, fatal) is environment', () => {
    assert.equal(classifyMssqlError(mssqlError(12345, 'insufficient resources', 17)).kind, 'environment');
    assert.equal(classifyMssqlError(mssqlError(12345, 'fatal', 20)).kind, 'environment');
    assert.equal(classifyMssqlError(mssqlError(2627, 'Violation of PRIMARY KEY constraint', 14)).kind, 'data', 'level 14 holds duplicate keys too');
  });

  it('reads the number from the driver error inside, and treats connection codes as environment', () => {
    const wrapped = Object.assign(new Error('Invalid column name x'), { originalError: { number: 207, info: { class: 16 } } });
    assert.equal(classifyMssqlError(wrapped).kind, 'schema');
    for (const code of ['ESOCKET', 'ECONNCLOSED', 'ETIMEOUT', 'ELOGIN', 'ENOTOPEN']) {
      assert.equal(classifyMssqlError(Object.assign(new Error(code), { code })).kind, 'environment', code);
    }
    assert.equal(classifyMssqlError(new Error('Connection is closed.')).kind, 'environment');
  });
});
