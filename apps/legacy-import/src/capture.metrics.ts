import type { MetricsRegistry } from '@sync/observability';

/** Per-table capture figures (label `entity` = system.schema.table). */
export function captureMetrics(registry: MetricsRegistry) {
  return {
    rows: registry.counter('sync_capture_rows_total', 'Changes captured and published, by operation (r = snapshot)', ['entity', 'op']),
    echoSkipped: registry.counter('sync_capture_echo_skipped_total', "Changes written by the suite's own write-back, not published", ['entity']),
    errors: registry.counter('sync_capture_errors_total', 'Failed capture polls', ['entity']),
    pollSeconds: registry.histogram('sync_capture_poll_duration_seconds', 'Duration of one changelog read', ['entity'], [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]),
    lagSeconds: registry.gauge(
      'sync_capture_lag_seconds',
      'Now minus the commit time of the last captured change; on an empty poll, the age of the oldest committed change still waiting (e.g. behind an open transaction), 0 when none',
      ['entity'],
    ),
    deadLettered: registry.counter('sync_capture_dead_lettered_total', 'Changes sent to dlq.legacy-import as references (oversize, poison) instead of their topic', ['entity', 'rejection']),
    lastChange: registry.gauge('sync_capture_last_change_timestamp_seconds', 'Commit time of the last captured change', ['entity']),
    backlog: registry.gauge('sync_capture_backlog_rows', 'Changelog rows not yet read', ['entity']),
    purged: registry.counter('sync_changelog_purged_rows_total', 'Consumed changelog rows deleted by retention', ['entity']),
    snapshotRowsDone: registry.gauge('sync_snapshot_rows_done', 'Rows read by the running (or last) snapshot or re-snapshot', ['entity']),
    snapshotTableRows: registry.gauge('sync_snapshot_table_rows', 'Rows the table held when the running (or last) snapshot began', ['entity']),
    snapshotRowsPerSecond: registry.gauge('sync_snapshot_rows_per_second', 'Average rows/s of the running (or last) snapshot since it began', ['entity']),
    snapshotEtaSeconds: registry.gauge('sync_snapshot_eta_seconds', 'Seconds the running snapshot needs at its average rate; 0 when none is running', ['entity']),
    snapshotRows: registry.gauge('sync_capture_snapshot_rows', "Rows published by the entity's snapshot in progress (or its last one), counted since this process took it up", ['entity']),
    slotLagBytes: registry.gauge('sync_capture_slot_lag_bytes', 'Logical decoding: WAL bytes written since the replication slot\'s acknowledged position', ['slot']),
    slotLagSeconds: registry.gauge('sync_capture_slot_lag_seconds', 'Logical decoding: seconds since the commit of the oldest change received and not yet acknowledged to the slot; 0 when none', ['slot']),
    slotRetainedBytes: registry.gauge('sync_capture_slot_retained_bytes', 'Logical decoding: WAL bytes the replication slot keeps on the server', ['slot']),
    stopped: registry.gauge('sync_capture_entity_stopped', '1 while an entity is stopped by a schema or position problem', ['entity']),
  };
}

export type CaptureMetrics = ReturnType<typeof captureMetrics>;
