import type { MetricsRegistry } from '@sync/observability';

/** The write-back's Prometheus series, in one place. */
export class WritebackMetrics {
  readonly rowsApplied;
  readonly batchSeconds;
  readonly conflicts;
  readonly deadLetters;
  readonly inboxHits;
  readonly parked;
  readonly parkedReleased;
  readonly parkExpired;
  readonly parkedNow;
  readonly failures;
  readonly entityBlocked;

  constructor(metrics: MetricsRegistry) {
    this.rowsApplied = metrics.counter('sync_writeback_rows_applied_total', 'Commands applied to the legacy database', ['entity', 'op']);
    this.batchSeconds = metrics.histogram('sync_writeback_batch_seconds', 'Time to apply one batch and publish its results', ['entity'], [0.005, 0.02, 0.1, 0.5, 2, 10]);
    this.conflicts = metrics.counter('sync_writeback_conflicts_total', 'Commands whose row the legacy side changed after the change they are based on', ['entity', 'policy', 'resolution']);
    this.deadLetters = metrics.counter('sync_writeback_dead_letters_total', 'Commands sent to dlq.legacy-writeback', ['kind']);
    this.inboxHits = metrics.counter('sync_writeback_inbox_hits_total', 'Redelivered commands found in the inbox (skipped, result re-published)', ['entity']);
    this.parked = metrics.counter('sync_writeback_parked_total', 'Commands parked (foreign-key target missing after retries, or behind such a command for the same row)', ['entity']);
    this.parkedReleased = metrics.counter('sync_writeback_parked_released_total', 'Parked commands applied by a later release round', ['entity']);
    this.parkExpired = metrics.counter('sync_writeback_park_expired_total', 'Parked commands dead-lettered after waiting longer than parkTimeoutMs', ['entity']);
    this.parkedNow = metrics.gauge('sync_writeback_parked_commands', 'Commands waiting in the parked table (as of the last release round)', ['entity']);
    this.entityBlocked = metrics.gauge('sync_writeback_entity_blocked', 'Partitions of the entity held by a schema problem (0: none); the reason is in /health/ready and the logs', ['entity']);
    this.failures = metrics.counter('sync_writeback_failures_total', 'Failed batch attempts by error kind', ['entity', 'kind']);
  }
}
