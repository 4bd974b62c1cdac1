import type { MetricsRegistry } from '@sync/observability';
import type { Direction } from '@sync/control';

// One vocabulary for direction everywhere (docs/architecture.md, *Direction*): legacy-to-new and
// new-to-legacy, as sync-ctl and the control topic name them.
export type { Direction };

/** The transform's Prometheus series, in one place. */
export class TransformMetrics {
  readonly messagesIn;
  readonly outputs;
  readonly skipped;
  readonly deadLetters;
  readonly mappingErrors;
  readonly batchSeconds;

  constructor(metrics: MetricsRegistry) {
    this.messagesIn = metrics.counter('sync_transform_messages_in_total', 'Messages read by domain-transform', ['direction', 'topic']);
    this.outputs = metrics.counter('sync_transform_outputs_total', 'Domain events and write-back requests produced, per rule', ['direction', 'rule']);
    this.skipped = metrics.counter('sync_transform_skipped_total', 'Rule applications that produced nothing, by reason (echo, unchanged, condition, no-rule)', ['direction', 'rule', 'reason']);
    this.deadLetters = metrics.counter('sync_transform_dead_letters_total', 'Messages sent to dlq.domain-transform', ['direction', 'kind']);
    this.mappingErrors = metrics.counter('sync_transform_mapping_errors_total', 'Messages that could not be mapped or failed validation', ['direction']);
    this.batchSeconds = metrics.histogram('sync_transform_batch_seconds', 'Time to transform and produce one batch', ['direction'], [0.005, 0.02, 0.1, 0.5, 2, 10]);
  }
}
