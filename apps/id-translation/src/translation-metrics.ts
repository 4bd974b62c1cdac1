import type { MetricsRegistry } from '@sync/observability';

/**
 * The three input streams (and consumer-group suffixes): change events from legacy, write-back
 * requests, id-map links. Metrics carry the stream and its direction in the one vocabulary
 * (legacy-to-new / new-to-legacy, docs/architecture.md *Direction*).
 */
export type Stream = 'legacy' | 'writeback' | 'links';

/** The labels of a stream's series: its direction and the stream itself. */
export function streamLabels(stream: Stream): { direction: 'legacy-to-new' | 'new-to-legacy'; stream: Stream } {
  return { direction: stream === 'legacy' ? 'legacy-to-new' : 'new-to-legacy', stream };
}

/** id-translation's Prometheus series, in one place. */
export class TranslationMetrics {
  readonly translations;
  readonly parked;
  readonly parkedTotal;
  readonly released;
  readonly parkedExpired;
  readonly skipped;
  readonly cache;
  readonly linkConflicts;
  readonly deadLetters;
  readonly batchSeconds;
  readonly mergeWaits;
  readonly mergeWaitExpired;
  readonly keyMoves;
  readonly tombstonesSkipped;

  constructor(metrics: MetricsRegistry) {
    this.translations = metrics.counter('sync_idtrans_translations_total', 'Messages translated and published (rate() gives translations per second)', ['direction', 'stream']);
    this.parked = metrics.gauge('sync_idtrans_parked_commands', 'Write-back commands parked now, waiting for a legacy key');
    this.parkedTotal = metrics.counter('sync_idtrans_parked_total', 'Write-back commands parked');
    this.released = metrics.counter('sync_idtrans_released_total', 'Parked write-back commands released');
    this.parkedExpired = metrics.counter('sync_idtrans_parked_expired_total', 'Parked write-back commands that waited too long and went to dlq.id-translation');
    this.tombstonesSkipped = metrics.counter('sync_idtrans_tombstones_skipped_total', 'Tombstones on legacy.* (Debezium format, after a delete) skipped: nothing to translate');
    this.skipped = metrics.counter('sync_idtrans_skipped_total', 'Write-back requests that needed nothing (delete of a row the target never had)');
    this.cache = metrics.counter('sync_idtrans_cache_lookups_total', 'Key-map cache lookups by result', ['result']);
    this.linkConflicts = metrics.counter('sync_idtrans_link_conflicts_total', 'idmap.links that contradict a mapping already stored (the stored one is kept)');
    this.deadLetters = metrics.counter('sync_idtrans_dead_letters_total', 'Messages sent to dlq.id-translation', ['direction', 'stream', 'kind']);
    this.mergeWaits = metrics.counter('sync_idtrans_merge_waits_total', 'Times a legacy partition waited for a merge-table row its events reference to be seen first');
    this.mergeWaitExpired = metrics.counter('sync_idtrans_merge_wait_expired_total', 'Times a legacy partition stopped waiting after mergeWaitMs (the rows it named got key-based ids)');
    this.keyMoves = metrics.counter('sync_idtrans_key_moves_total', 'Primary-key updates whose global id was moved to the new legacy key');
    this.batchSeconds = metrics.histogram('sync_idtrans_batch_seconds', 'Time to translate and publish one batch', ['direction', 'stream'], [0.005, 0.02, 0.1, 0.5, 2, 10]);
  }
}
