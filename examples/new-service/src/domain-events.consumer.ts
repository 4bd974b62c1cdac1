import { Headers } from '@sync/contracts';
import { classifyPostgresError } from '@sync/legacy-db';
import { type BatchConsumerRunner, type InboundMessage, type KafkaConnection, type LogSink, type SyncProducer } from '@sync/kafka';
import { errorMessage, DataError, EnvironmentError } from '@sync/errors';
import { decodeDomainEvent, LEGACY_VERSION_EXTENSION } from '@sync/mapping';
import type { ServiceRepository } from './service.repository';
import type { ServiceStats } from './service-stats';

/**
 * Keeps the service's tables from the domain topics. Its own events come back on the same topics
 * (it published them there): they are recognised by origin and skipped, they are already applied.
 */
export class DomainEventsConsumer {
  private runner: BatchConsumerRunner | undefined;

  constructor(
    private readonly connection: KafkaConnection,
    private readonly producer: SyncProducer,
    private readonly repository: ServiceRepository,
    private readonly stats: ServiceStats,
    private readonly options: { groupId: string; topics: readonly string[]; origin: string; log: LogSink; concurrency?: number },
  ) {}

  async start(): Promise<void> {
    this.runner = this.connection.batchConsumer(this.producer, {
      app: 'new-service',
      groupId: this.options.groupId,
      topics: this.options.topics,
      fromBeginning: true,
      // Partitions in parallel (each batch is one partition, applied in order): a key stays on its partition.
      partitionsConsumedConcurrently: this.options.concurrency ?? 2,
      log: this.options.log,
      handler: (messages) => this.handle(messages),
    });
    await this.runner.start();
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
  }

  private async handle(messages: readonly InboundMessage[]): Promise<void> {
    const events = [];
    for (const m of messages) {
      if ((m.headers[Headers.origin] ?? '') === this.options.origin) continue;
      let decoded;
      try {
        decoded = decodeDomainEvent(m);
      } catch (err) {
        throw new DataError((err as Error).message);
      }
      if (decoded.subject === undefined) throw new DataError('ce_subject missing');
      this.stats.seen(decoded.type, decoded.time);
      const legacyVersion = m.headers[`ce_${LEGACY_VERSION_EXTENSION}`];
      events.push({ id: decoded.id, type: decoded.type, subject: decoded.subject, data: (decoded.data ?? {}) as Record<string, unknown>, ...(legacyVersion ? { legacyVersion } : {}) });
    }
    if (events.length === 0) return;
    let applied: string[];
    try {
      applied = await this.repository.apply(events);
    } catch (err) {
      throw asRetryable(err);
    }
    for (const type of applied) this.stats.applied(type);
  }
}

/**
 * The service database down or restarting is a EnvironmentError: the runner waits and retries the
 * batch. Any other error would be retried a few times and then dead-lettered, so a database outage
 * would lose the events it caught mid-batch.
 */
export function asRetryable(err: unknown): unknown {
  return classifyPostgresError(err).kind === 'environment' ? new EnvironmentError(`service database: ${errorMessage(err)}`, { cause: err }) : err;
}
