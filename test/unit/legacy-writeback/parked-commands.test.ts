import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ParkedCommand } from '@sync/legacy-db';
import { parkExpired, ParkedRows, releaseGroups } from '../../../apps/legacy-writeback/src/parked-commands';

const parked = (commandId: string, globalId: string, at: number): ParkedCommand => ({
  commandId,
  reason: 'FK',
  parkedAt: new Date(at),
  command: { commandId, op: 'upsert', globalId, key: { id: 1 }, columns: {}, occurredAt: '2026-01-01T00:00:00Z', origin: 'svc' },
});

describe('releaseGroups', () => {
  it('groups by row in parked order, rows ordered by their oldest command', () => {
    const groups = releaseGroups([parked('c3', 'g2', 30), parked('c1', 'g1', 10), parked('c4', 'g1', 40), parked('c2', 'g2', 20)]);
    assert.deepEqual(
      groups.map((g) => g.map((p) => p.commandId)),
      [['c1', 'c4'], ['c2', 'c3']],
    );
  });

  it('breaks ties of the same parked time by command id', () => {
    const groups = releaseGroups([parked('b', 'g', 10), parked('a', 'g', 10)]);
    assert.deepEqual(groups[0]!.map((p) => p.commandId), ['a', 'b']);
  });
});

describe('parkExpired', () => {
  it('is true only after the limit', () => {
    assert.equal(parkExpired(new Date(0), new Date(1_000), 1_000), false);
    assert.equal(parkExpired(new Date(0), new Date(1_001), 1_000), true);
  });
});

describe('ParkedRows', () => {
  it('loads a topic once and serialises work per topic', async () => {
    const rows = new ParkedRows();
    let loads = 0;
    const load = async (): Promise<ParkedCommand[]> => {
      loads++;
      return [parked('c1', 'g1', 1)];
    };
    assert.deepEqual([...(await rows.of('t', load))], ['g1']);
    (await rows.of('t', load)).add('g2');
    assert.deepEqual([...(await rows.of('t', load))], ['g1', 'g2']);
    assert.equal(loads, 1);

    const order: string[] = [];
    const slow = rows.withLock('t', async () => {
      await new Promise((r) => setTimeout(r, 30));
      order.push('first');
    });
    const fast = rows.withLock('t', async () => {
      order.push('second');
    });
    const other = rows.withLock('u', async () => {
      order.push('other topic');
    });
    await Promise.all([slow, fast, other]);
    assert.deepEqual(order, ['other topic', 'first', 'second']);
  });

  it('a failing holder does not block the next one', async () => {
    const rows = new ParkedRows();
    await assert.rejects(rows.withLock('t', () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await rows.withLock('t', () => Promise.resolve(7)), 7);
  });
});
