import type { BatchConsumerRunner } from './batch-consumer.runner';

/**
 * The liveness verdict over an app's consumers: undefined while each has fetched, joined or worked
 * on a batch within `stallMs` (paused or stopped ones are exempt), else a sentence naming the
 * stalled ones. Reads the runners' memory only, never the broker.
 */
export function stalledConsumers(runners: readonly BatchConsumerRunner[], stallMs: number, now = Date.now()): string | undefined {
  const stalled = runners.flatMap((runner) => {
    const ms = runner.stalledMs(now);
    return ms !== undefined && ms > stallMs ? [`${runner.groupId} has made no progress for ${Math.round(ms / 1000)} s (${runner.problem(now) ?? 'no fetch'})`] : [];
  });
  return stalled.length > 0 ? stalled.join('; ') : undefined;
}
