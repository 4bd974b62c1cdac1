import { Controller, UseFilters, type Type } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { classifyPostgresError } from '@sync/legacy-db';
import { errorMessage, EnvironmentError } from '@sync/errors';
import { DomainEventErrorsFilter, ServiceEvents, validEvents, type DomainEventBatch } from '@sync/nest-events';
import { ServiceRepository, type ServiceEvent } from './service.repository';
import { ServiceStats } from './service-stats';

/**
 * The service's event handlers: one `@EventPattern` per domain topic it keeps. Each call is one
 * fetch of one partition (DomainEventsBatchServer), written in one transaction with set-based
 * statements; its offsets are committed after that transaction. A class per pair of topics,
 * because `@EventPattern` takes the topic when the class is declared.
 */
export function domainEventsController(topics: { readonly users: string; readonly orders: string }): Type<unknown> {
  @Controller()
  @UseFilters(DomainEventErrorsFilter)
  class DomainEventsController {
    constructor(
      private readonly repository: ServiceRepository,
      private readonly events: ServiceEvents,
      private readonly stats: ServiceStats,
    ) {}

    @EventPattern(topics.users)
    onUserEvents(@Payload() batch: DomainEventBatch): Promise<void> {
      return this.apply(batch);
    }

    @EventPattern(topics.orders)
    onOrderEvents(@Payload() batch: DomainEventBatch): Promise<void> {
      return this.apply(batch);
    }

    private async apply(batch: DomainEventBatch): Promise<void> {
      const events: ServiceEvent[] = [];
      // Its own changes come back on the same topics (it published them there): already applied, and
      // skipped by their origin header before anything else, even one that does not decode (the
      // reverse path's domain-transform dead-letters that one; this service never applies it).
      const foreign = batch.events.filter((event) => !this.events.isOwn(event));
      // An invalid message throws a DataError: the server retries the batch one message at a time and dead-letters that one.
      for (const event of validEvents({ events: foreign })) {
        this.stats.seen(event.type, event.time);
        events.push({ id: event.id, type: event.type, subject: event.subject, data: event.data, ...(event.legacyVersion !== undefined && { legacyVersion: event.legacyVersion }) });
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
  return DomainEventsController;
}

/**
 * The service database down or restarting is an EnvironmentError: the server waits and retries the
 * batch. Any other error would be retried a few times and then dead-lettered, so a database outage
 * would lose the events it caught mid-batch.
 */
export function asRetryable(err: unknown): unknown {
  return classifyPostgresError(err).kind === 'environment' ? new EnvironmentError(`service database: ${errorMessage(err)}`, { cause: err }) : err;
}
