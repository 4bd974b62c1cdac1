import type { ServiceChange } from '@sync/nest-events';
import type { ServiceStats } from './service-stats';

/** Where the changes go: @sync/nest-events' ServiceEvents (ClientKafka) in the service. */
export interface ChangeSink {
  send(topic: string, change: ServiceChange): Promise<void>;
}

/** Publishes the service's own changes as CloudEvents (Kafka binary mode) on its aggregate's topic, in order. */
export class ChangePublisher {
  constructor(
    private readonly sink: ChangeSink,
    private readonly stats: ServiceStats,
    private readonly options: { topic: string },
  ) {}

  /**
   * `id` (the CloudEvents id) is random when absent; give it to publish again after a failed send without creating a second event.
   * `basedOn`: the legacy row version the change was made on (ce_legacyversion last applied), sent as ce_basedon.
   */
  async publish(changes: readonly ServiceChange[]): Promise<void> {
    // One after the other: a user's UserChanged must reach the topic before its AddressChanged.
    for (const change of changes) {
      await this.sink.send(this.options.topic, change);
      this.stats.published(change.type);
    }
  }
}
