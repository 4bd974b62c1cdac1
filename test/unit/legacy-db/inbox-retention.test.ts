import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parse } from '@guanmingchiu/sqlparser-ts';
import { INBOX_CLOCK_SQL, type InboxPruneRule } from '../../../libs/legacy-db/src/core/inbox-retention';
import { mssqlInboxPrune } from '../../../libs/legacy-db/src/mssql/mssql-inbox-retention.sql';
import { postgresInboxPrune } from '../../../libs/legacy-db/src/postgres/postgres-inbox-retention.sql';
import { loadTsqlParser, parseTsql } from './tsql-parser';

const rule: InboxPruneRule = {
  system: 'crm',
  schema: 'dbo',
  table: 'order_lines',
  horizon: new Date('2026-12-06T10:00:00.123Z'),
  olderThan: new Date('2026-11-29T10:00:00Z'),
  keepNewest: 1000,
  limit: 5000,
};

describe('inbox retention statements', () => {
  before(loadTsqlParser);

  it('T-SQL: one DELETE through an updatable CTE, every parameter bound, UTC times in ISO form', () => {
    const s = mssqlInboxPrune('sync', rule);
    assert.equal(parseTsql(s.text), 1, s.text);
    assert.equal(parseTsql(INBOX_CLOCK_SQL.mssql), 1);
    const used = new Set([...s.text.matchAll(/@(\w+)/g)].map((m) => m[1]));
    assert.deepEqual([...used].sort(), s.params.map((p) => p.name).sort());
    assert.match(s.text, /DELETE FROM doomed/);
    assert.match(s.text, /FROM \[sync\]\.\[inbox\]/);
    assert.match(s.text, /NOT EXISTS \(SELECT 1 FROM \[sync\]\.\[writeback_parked\]/);
    const params = Object.fromEntries(s.params.map((p) => [p.name, p.value]));
    assert.deepEqual(params, { system: 'crm', schema: 'dbo', table: 'order_lines', horizon: '2026-12-06T10:00:00.123', olderThan: '2026-11-29T10:00:00.000', keepNewest: 1000, limit: 5000 });
  });

  it('T-SQL: a rule without an age or a count limit binds NULL, so that branch never matches', () => {
    const s = mssqlInboxPrune('sync', { system: 'crm', schema: 'dbo', table: 't', horizon: new Date(0), limit: 10 });
    const params = Object.fromEntries(s.params.map((p) => [p.name, p.value]));
    assert.equal(params['olderThan'], null);
    assert.equal(params['keepNewest'], null);
    assert.match(s.text, /@olderThan IS NOT NULL AND/);
    assert.match(s.text, /@keepNewest IS NOT NULL AND/);
  });

  it('PostgreSQL: one DELETE by ctid, parsed', () => {
    const s = postgresInboxPrune('sync', rule);
    assert.equal(parse(s.text, 'postgresql').length, 1, s.text);
    assert.deepEqual(s.values, ['crm', 'dbo', 'order_lines', rule.horizon, rule.olderThan, 1000, 5000]);
  });

  it('names no id column of the inbox (the command identity may change)', () => {
    for (const text of [mssqlInboxPrune('sync', rule).text, postgresInboxPrune('sync', rule).text]) {
      assert.doesNotMatch(text, /command_id|global_id|ce_source|ce_id/, text);
    }
  });
});
