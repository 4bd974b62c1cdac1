import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpException } from '@nestjs/common';
import { LivenessRegistry } from '@sync/observability';
import { HealthController } from '../../../libs/observability/src/health.controller';

function controller(liveness: LivenessRegistry): HealthController {
  // /health/live uses the liveness registry only: the other collaborators are never touched.
  return new HealthController(undefined as never, undefined as never, undefined as never, undefined as never, liveness);
}

describe('/health/live', () => {
  it('answers ok while every liveness check passes', () => {
    const liveness = new LivenessRegistry();
    liveness.register('consumers', () => undefined);
    assert.deepEqual(controller(liveness).live(), { status: 'ok' });
  });

  it('answers 503 naming the stalled consumer when a check fails', () => {
    const liveness = new LivenessRegistry();
    const state: { stalled?: string } = {};
    liveness.register('consumers', () => state.stalled);
    const live = controller(liveness);
    assert.deepEqual(live.live(), { status: 'ok' });
    const stalled = 'legacy-writeback.crm has made no progress for 301 s (consumer is not running)';
    state.stalled = stalled;
    assert.throws(
      () => live.live(),
      (err: unknown) => {
        assert.ok(err instanceof HttpException);
        assert.equal(err.getStatus(), 503);
        assert.deepEqual(err.getResponse(), { status: 'error', problems: { consumers: stalled } });
        return true;
      },
    );
  });
});
