import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { cdcImage, cdcPositionGap, mssqlCdcQueries, mssqlOriginCaptureInstance, pairCdcRows, type CdcRow } from '../../../libs/legacy-db/src/mssql/mssql-cdc.source';
import { decodeLsnPosition, decodeRowversion, encodeLsnPosition, encodeRowversion, rowversionBefore } from '../../../libs/legacy-db/src/mssql/mssql-position';
import { type MssqlStatement } from '../../../libs/legacy-db/src/mssql/mssql-statement';
import { cdcCustomers, mssqlSystem } from './mssql-fixtures';
import { loadTsqlParser, parseTsql } from './tsql-parser';

const L1 = '0000002a000001f00003';
const L2 = '0000002a000001f80002';
const S = (n: number): string => n.toString(16).padStart(20, '0');

function row(lsn: string, seq: number, operation: number, id: number, name = `n${id}`): CdcRow {
  return { lsn, seqval: S(seq), operation, image: { id, name }, committedAt: '2024-01-01T00:00:00.000Z', origin: null };
}

function parsesAsOne(s: MssqlStatement): void {
  assert.equal(parseTsql(s.text), 1, s.text);
  const used = new Set([...s.text.matchAll(/@(\w+)/g)].map((m) => m[1]));
  assert.deepEqual([...used].sort(), s.params.map((p) => p.name).sort(), s.text);
}

describe('pairCdcRows', () => {
  it('maps 1 to d, 2 to c and pairs 3+4 into one u with before and after', () => {
    const rows = [row(L1, 1, 2, 1), row(L1, 2, 3, 1, 'old'), row(L1, 2, 4, 1, 'new'), row(L2, 1, 1, 1, 'new')];
    const { changes, consumed } = pairCdcRows(rows, 10);
    assert.equal(consumed, 4);
    assert.deepEqual(
      changes.map((c) => [c.op, c.before, c.after]),
      [
        ['c', null, { id: 1, name: 'n1' }],
        ['u', { id: 1, name: 'old' }, { id: 1, name: 'new' }],
        ['d', { id: 1, name: 'new' }, null],
      ],
    );
    // The update's position is its after half, so a resumed read starts behind both halves.
    assert.equal(changes[1]!.last.operation, 4);
  });

  it('stops at the limit without splitting an update pair', () => {
    const rows = [row(L1, 1, 2, 1), row(L1, 2, 3, 2), row(L1, 2, 4, 2), row(L1, 3, 2, 3)];
    assert.equal(pairCdcRows(rows, 1).consumed, 1);
    const two = pairCdcRows(rows, 2);
    assert.equal(two.consumed, 3);
    assert.deepEqual(two.changes.map((c) => c.op), ['c', 'u']);
  });

  it('leaves an update-before whose after was not fetched for the next batch', () => {
    const { changes, consumed } = pairCdcRows([row(L1, 1, 2, 1), row(L1, 2, 3, 2)], 10);
    assert.equal(consumed, 1);
    assert.deepEqual(changes.map((c) => c.op), ['c']);
  });

  it('refuses an update-before followed by something else than its after', () => {
    assert.throws(() => pairCdcRows([row(L1, 2, 3, 2), row(L1, 3, 4, 2)], 10), /has no update-after/);
  });

  it('strips CDC metadata columns from row images', () => {
    assert.deepEqual(cdcImage({ __$start_lsn: 'AAA=', __$seqval: 'AAA=', __$operation: 2, __$update_mask: 'Dw==', id: 1, 'Full Name': 'x' }), { id: 1, 'Full Name': 'x' });
  });
});

describe('SQL Server positions', () => {
  it('encodes LSN positions as hex, with seqval and operation inside a commit', () => {
    for (const p of [{ lsn: L1, within: null }, { lsn: L2, within: { seqval: S(5), operation: 4 } }]) {
      assert.deepEqual(decodeLsnPosition(encodeLsnPosition(p)), p);
    }
    assert.equal(encodeLsnPosition({ lsn: L2, within: { seqval: S(5), operation: 4 } }), `${L2}:${S(5)}:4`);
    for (const bad of ['', 'zz', `${L1}:`, `${L1}:${S(1)}`, `${L1}:${S(1)}:5`, `${L1}:${S(1)}:4:1`, L1.toUpperCase().slice(1)]) {
      assert.throws(() => decodeLsnPosition(bad), /invalid SQL Server CDC position/, bad);
    }
  });

  it('encodes rowversions as 16 hex digits; the start position is just below MIN_ACTIVE_ROWVERSION()', () => {
    const rv = Buffer.from('00000000000007d1', 'hex');
    assert.equal(encodeRowversion(rv), '00000000000007d1');
    assert.deepEqual(decodeRowversion('00000000000007d1'), rv);
    assert.equal(rowversionBefore(rv), '00000000000007d0');
    assert.equal(rowversionBefore(Buffer.from('0000000100000000', 'hex')), '00000000ffffffff');
    assert.throws(() => decodeRowversion('7d1'), /invalid SQL Server rowversion position/);
  });

  it('reports a saved position older than the CDC retention window, and only then', () => {
    const next = (l: string): string => (BigInt(`0x${l}`) + 1n).toString(16).padStart(20, '0');
    const atBoundary = { lsn: L1, within: null };
    assert.equal(cdcPositionGap('dbo_customer', atBoundary, next(L1), next(L1)), undefined);
    assert.match(cdcPositionGap('dbo_customer', atBoundary, L2, next(L1)) ?? '', /older than the oldest change capture instance dbo_customer still keeps/);
    // Inside a commit LSN, that LSN itself must still be there.
    assert.equal(cdcPositionGap('dbo_customer', { lsn: L1, within: { seqval: S(1), operation: 2 } }, L1, next(L1)), undefined);
    assert.match(cdcPositionGap('dbo_customer', { lsn: L1, within: { seqval: S(1), operation: 2 } }, next(L1), next(L1)) ?? '', /CDC cleanup removed/);
    assert.match(cdcPositionGap('dbo_customer', atBoundary, '0'.repeat(20), next(L1)) ?? '', /does not exist or this login may not read it/);
  });
});

describe('SQL Server CDC statements', () => {
  before(loadTsqlParser);
  const from = Buffer.from(L1, 'hex');
  const to = Buffer.from(L2, 'hex');

  it('reads cdc.fn_cdc_get_all_changes_<instance> with all update old, in commit, seqval, operation order', () => {
    const s = mssqlCdcQueries('dbo_customer', null).read(from, to, null, 501);
    assert.ok(s.text.includes("FROM cdc.[fn_cdc_get_all_changes_dbo_customer](@from, @to, N'all update old') AS c WHERE"), s.text);
    assert.ok(s.text.endsWith('ORDER BY c.[__$start_lsn], c.[__$seqval], c.[__$operation]'));
    assert.ok(s.text.includes('sys.fn_cdc_map_lsn_to_time(c.[__$start_lsn])'));
    assert.ok(s.text.includes('CAST(NULL AS nvarchar(128)) AS [_origin]'));
    assert.deepEqual(
      s.params.map((p) => [p.name, p.type]),
      [
        ['fetch', 'int'],
        ['from', 'lsn'],
        ['to', 'lsn'],
        ['seq', 'lsn'],
        ['op', 'int'],
      ],
    );
    assert.ok(s.params.filter((p) => p.type === 'lsn').every((p) => (p.value as Buffer).length === 10));
    parsesAsOne(s);
  });

  it('marks changes of transactions that also wrote a write-back inbox row with that row\'s origin, a plain one before a republish one', () => {
    const origin = mssqlOriginCaptureInstance(mssqlSystem([cdcCustomers]));
    assert.equal(origin, 'sync_inbox');
    const s = mssqlCdcQueries('dbo_customer', origin).read(from, to, { seqval: S(3), operation: 4 }, 501);
    assert.ok(
      s.text.includes(
        ' OUTER APPLY (SELECT TOP (1) ib.[origin] FROM cdc.[sync_inbox_CT] AS ib WHERE ib.[__$start_lsn] = c.[__$start_lsn] AND ib.[__$operation] = 2 ORDER BY CASE WHEN ib.[origin] LIKE N\'republish:%\' THEN 1 ELSE 0 END) AS o',
      ),
      s.text,
    );
    assert.deepEqual(s.params.find((p) => p.name === 'op')?.value, 4);
    parsesAsOne(s);
  });

  it('asks for the bounds, the start position, the backlog and whether an instance exists', () => {
    const q = mssqlCdcQueries('dbo_customer', null);
    const bounds = q.bounds(from);
    assert.equal(bounds.text, 'SELECT sys.fn_cdc_get_min_lsn(@ci) AS [min_lsn], sys.fn_cdc_get_max_lsn() AS [max_lsn], sys.fn_cdc_increment_lsn(@lsn) AS [next_lsn]');
    assert.ok(q.start().text.includes('sys.fn_cdc_decrement_lsn(m.[min_lsn])'));
    const backlog = q.backlog({ lsn: L1, within: { seqval: S(3), operation: 2 } });
    assert.ok(backlog.text.startsWith('SELECT COUNT_BIG(*) AS [n] FROM cdc.[dbo_customer_CT] AS c WHERE c.[__$start_lsn] > @lsn OR'));
    assert.equal(q.backlog({ lsn: L1, within: null }).text, 'SELECT COUNT_BIG(*) AS [n] FROM cdc.[dbo_customer_CT] AS c WHERE c.[__$start_lsn] > @lsn');
    for (const s of [bounds, q.start(), backlog, q.backlog({ lsn: L1, within: null }), q.captureInstanceExists('dbo_customer')]) parsesAsOne(s);
  });

  it('refuses capture instances that are not plain identifiers (the function name cannot be a parameter)', () => {
    for (const bad of ['dbo_customer](@a, @b, 1); DROP TABLE x; --', 'a.b', '', 'x'.repeat(101)]) {
      assert.throws(() => mssqlCdcQueries(bad, null), /identifier|at most 100 characters/, bad);
    }
  });
});
