import { randomUUID } from 'node:crypto';
import { Headers } from '@sync/contracts';
import type { SyncProducer } from '@sync/kafka';
import { BASED_ON_EXTENSION, encodeDomainEvent } from '@sync/mapping';
import type { ServiceStats } from './service-stats';

/** Publishes the service's own changes as CloudEvents (Kafka binary mode) on its aggregate's topic. */
export class ChangePublisher {
  constructor(
    private readonly producer: SyncProducer,
    private readonly stats: ServiceStats,
    private readonly options: { topic: string; aggregate: string; source: string; origin: string },
  ) {}

  /**
   * `id` (the CloudEvents id) is random when absent; give it to publish again after a failed send without creating a second event.
   * `basedOn`: the legacy row version the change was made on (ce_legacyversion last applied), sent as ce_basedon.
   */
  async publish(changes: ReadonlyArray<{ id?: string; type: string; subject: string; data: Readonly<Record<string, unknown>>; basedOn?: string }>): Promise<void> {
    const records = changes.map((c) => {
      const id = c.id ?? randomUUID();
      const encoded = encodeDomainEvent({
        id,
        source: this.options.source,
        type: c.type,
        subject: c.subject,
        time: new Date().toISOString(),
        dataschema: `urn:legacy-sync:schema:${this.options.aggregate}:v1:${c.type}`,
        data: c.data,
        ...(c.basedOn !== undefined && { extensions: { [BASED_ON_EXTENSION]: c.basedOn } }),
      });
      return { topic: this.options.topic, key: encoded.key, value: encoded.value, headers: { ...encoded.headers, [Headers.eventId]: id, [Headers.origin]: this.options.origin, [Headers.causationId]: id } };
    });
    await this.producer.send(records);
    for (const c of changes) this.stats.published(c.type);
  }
}
