import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorKind } from '@sync/errors';
import type { DomainEventBatch } from '@sync/nest-events';
import { asRetryable, domainEventsController } from '../../../examples/new-service/src/domain-events.controller';

function pgError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

describe('sample new service: failures while applying events', () => {
  it('waits out its database being down or restarting instead of dead-lettering the events', () => {
    for (const err of [pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), pgError('terminating connection due to administrator command', '57P01'), pgError('Connection terminated unexpectedly'), pgError('the database system is starting up', '57P03')]) {
      assert.equal(errorKind(asRetryable(err)), 'environment', err.message);
    }
  });

  it('leaves other errors to the runner (retried a few times, then dead-lettered)', () => {
    const err = pgError('duplicate key value violates unique constraint', '23505');
    assert.equal(asRetryable(err), err);
    assert.equal(errorKind(asRetryable(err)), 'unknown');
  });
});

describe('sample new service: its own events', () => {
  it('skips its own messages by origin before validating them: one that does not decode is not dead-lettered here', async () => {
    const applied: unknown[][] = [];
    const Controller = domainEventsController({ users: 'domain.user.v1', orders: 'domain.order.v1' }) as new (...args: unknown[]) => { onUserEvents(batch: DomainEventBatch): Promise<void> };
    const controller = new Controller(
      { apply: async (events: unknown[]) => (applied.push(events), []) },
      { isOwn: (e: { headers: Record<string, string> }) => e.headers['origin'] === 'service:profile' },
      { seen: () => {}, applied: () => {} },
    );
    const ownInvalid = { invalid: 'header ce_source: contains a NUL character (U+0000)', headers: { origin: 'service:profile' }, topic: 'domain.user.v1', partition: 0, offset: '7' };
    await controller.onUserEvents({ topic: 'domain.user.v1', partition: 0, events: [ownInvalid], heartbeat: async () => {} });
    assert.deepEqual(applied, []);
    const foreignInvalid = { ...ownInvalid, headers: { origin: 'legacy:crm' } };
    await assert.rejects(controller.onUserEvents({ topic: 'domain.user.v1', partition: 0, events: [foreignInvalid], heartbeat: async () => {} }), /contains a NUL character/);
  });
});
