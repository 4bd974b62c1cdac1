import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorKind } from '@sync/errors';
import { asRetryable } from '../../../examples/new-service/src/domain-events.controller';

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
