import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataError, EnvironmentError } from '@sync/errors';
import { type CapturedChange } from '@sync/legacy-db';
import { changeKeyProblem, decodeChanges } from '../../../libs/legacy-db/src/core/change-decoder';
import { orderLines } from './mssql-fixtures';

const base = { changeId: '7', committedAt: '2026-12-06T00:00:00.000Z', txId: '1', origin: null };
const change = (over: Partial<CapturedChange>): CapturedChange => ({ ...base, op: 'u', before: null, after: { order: 1, 'Line No': 'a' }, ...over });

describe('changelog row decoding, one row at a time', () => {
  it('accepts a change whose image carries every key column as a clean scalar', () => {
    assert.equal(changeKeyProblem(orderLines, change({})), undefined);
    assert.equal(changeKeyProblem(orderLines, change({ op: 'd', before: { order: 1, 'Line No': 'a' }, after: null })), undefined);
  });

  it('names what is wrong with an unusable key', () => {
    assert.match(changeKeyProblem(orderLines, change({ after: null })) ?? '', /after image is missing/);
    assert.match(changeKeyProblem(orderLines, change({ after: { order: 1 } })) ?? '', /key column Line No is missing/);
    assert.match(changeKeyProblem(orderLines, change({ after: { order: 1, 'Line No': 'a\u0000b' } })) ?? '', /Line No contains a NUL/);
    assert.match(changeKeyProblem(orderLines, change({ after: { order: 1, 'Line No': 'a\ud800' } })) ?? '', /unpaired UTF-16 surrogate/);
    assert.match(changeKeyProblem(orderLines, change({ after: { order: { x: 1 }, 'Line No': 'a' } })) ?? '', /order is not a scalar/);
  });

  it('rejects data-error rows with their changelog id and keeps the others, in order', async () => {
    const rows = [1, 2, 3, 4];
    const { changes, rejected } = await decodeChanges(
      orderLines,
      rows,
      async (n) => {
        if (n === 2) throw new DataError('undecodable JSON row image');
        return change({ changeId: String(n), after: n === 3 ? { order: 3 } : { order: n, 'Line No': 'x' } });
      },
      (n) => ({ changeId: String(n), txId: null, key: null }),
    );
    assert.deepEqual(changes.map((c) => c.changeId), ['1', '4']);
    assert.deepEqual(rejected.map((r) => r.changeId), ['2', '3']);
    assert.match(String(rejected[1]!.error), /change 3: key column Line No is missing/);
  });

  it('fails the whole read on an environment error: the position must not move', async () => {
    await assert.rejects(
      decodeChanges(orderLines, [1], async () => Promise.reject(new EnvironmentError('connection lost')), () => ({ changeId: '1', txId: null, key: null })),
      /connection lost/,
    );
  });
});
