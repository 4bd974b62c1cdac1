import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WritebackCommand } from '@sync/contracts';
import { errorKind } from '@sync/errors';
import { guardedCommand } from '../../../apps/legacy-writeback/src/command-clock';

const NOW = Date.parse('2026-12-06T12:00:00.000Z');
const command = (occurredAt: string): WritebackCommand => ({
  commandId: 'c-1', op: 'upsert', system: 'crm', schema: 'public', table: 'users', globalId: 'g-1', key: { id: 1 }, columns: {}, occurredAt, origin: 'svc', causationId: 'e-1',
});

describe('write-back clock guard and conflict time', () => {
  it('a ce_time more than the skew ahead is a data error naming ce_time and the limit', () => {
    assert.throws(
      () => guardedCommand(command('2099-01-01T00:00:00.000Z'), NOW, NOW, 300_000),
      (err: unknown) => errorKind(err) === 'data' && /ce_time \(occurredAt\) 2099-01-01T00:00:00\.000Z is more than 300000 ms ahead/.test((err as Error).message),
    );
    assert.throws(() => guardedCommand(command('2026-12-06T12:05:00.001Z'), NOW, NOW, 300_000));
  });

  it('within the skew, the conflict time is the earlier of ce_time and the Kafka timestamp', () => {
    assert.equal(guardedCommand(command('2026-12-06T12:04:00.000Z'), NOW, NOW, 300_000).occurredAt, '2026-12-06T12:00:00.000Z', 'a clock ahead is capped at the record time');
    assert.equal(guardedCommand(command('2026-12-06T11:00:00.000Z'), NOW, NOW, 300_000).occurredAt, '2026-12-06T11:00:00.000Z', 'an earlier ce_time stands');
    assert.equal(guardedCommand(command('2026-12-06T12:04:00.000Z'), Number.NaN, NOW, 300_000).occurredAt, '2026-12-06T12:04:00.000Z', 'no record time: ce_time');
  });
});
