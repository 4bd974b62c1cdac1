import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeXidPosition, encodeXidPosition } from '../../../libs/legacy-db/src/postgres/postgres-xid-window';
import { normaliseRow, parseExactJson, valueKind, type ValueKind } from '../../../libs/legacy-db/src/core/value-normalizer';

describe('PostgreSQL xid window positions', () => {
  it('round-trips and rejects what is not a position', () => {
    const p = { lo: '742', hi: '760', after: ['1200'] };
    assert.deepEqual(decodeXidPosition(encodeXidPosition(p)), p);
    assert.deepEqual(decodeXidPosition(encodeXidPosition({ lo: '1', hi: null, after: null })), { lo: '1', hi: null, after: null });
    assert.throws(() => decodeXidPosition('{"lo":"x","hi":null,"after":null}'), /invalid PostgreSQL changelog position/);
    assert.throws(() => decodeXidPosition('not json'), /invalid PostgreSQL changelog position/);
  });
});

describe('value normalisation', () => {
  const kinds = new Map<string, ValueKind>([
    ['amount', valueKind('postgres', 'numeric')],
    ['big', valueKind('postgres', 'int8')],
    ['n', valueKind('postgres', 'int4')],
    ['blob', valueKind('postgres', 'bytea')],
    ['at', valueKind('postgres', 'timestamptz')],
    ['doc', valueKind('postgres', 'jsonb')],
    ['flag', valueKind('mssql', 'bit')],
  ]);

  it('keeps decimals and big integers exact, binary as base64, NULL apart from empty', () => {
    const raw = parseExactJson('{"amount": 12345678901234567890.123456789, "big": 9007199254740993, "n": 42, "blob": "\\\\x00ff", "at": "2026-11-24T10:00:00+01:00", "doc": {"x": 1.5}, "note": "", "gone": null, "flag": 1}') as Record<string, unknown>;
    assert.deepEqual(normaliseRow(raw, kinds, 'postgres'), {
      amount: '12345678901234567890.123456789',
      big: '9007199254740993',
      n: 42,
      blob: 'AP8=',
      at: '2026-11-24T10:00:00+01:00',
      doc: { x: 1.5 },
      note: '',
      gone: null,
      flag: true,
    });
  });

  it('passes columns it has no type for through as plain JSON', () => {
    assert.deepEqual(normaliseRow(parseExactJson('{"added": 7}') as Record<string, unknown>, new Map(), 'postgres'), { added: 7 });
  });
});
