import { Controller, Logger, type Type } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload } from '@nestjs/microservices';
import { isInvalidDomainEvent, ProcessedEvents, ServiceEvents, type DomainEvent, type InvalidDomainEvent } from '@sync/nest-events';
import { CustomerStore } from './customer.store';

/** What the legacy `customers` table becomes on the domain topic (see the pipeline's mappings). */
export interface CustomerData {
  readonly name?: string;
  readonly email?: string | null;
}

/**
 * The controller of a NestJS service that keeps its customers from the suite's domain topic.
 * A class per topic, because `@EventPattern` takes the topic when the class is declared.
 */
export function customerEventsController(topic: string): Type<unknown> {
  @Controller()
  class CustomerEventsController {
    private readonly log = new Logger('CustomerEvents');
    invalid = 0;

    constructor(
      private readonly store: CustomerStore,
      private readonly processed: ProcessedEvents,
      private readonly events: ServiceEvents,
    ) {}

    @EventPattern(topic)
    async onCustomerEvent(@Payload() event: DomainEvent<CustomerData> | InvalidDomainEvent, @Ctx() context: KafkaContext): Promise<void> {
      if (isInvalidDomainEvent(event)) {
        // One bad message must not block the partition: log it (with where it is) and move on.
        this.invalid++;
        this.log.warn(`skipped ${event.topic}[${event.partition}]@${event.offset}: ${event.invalid}`);
        return;
      }
      if (this.events.isOwn(event)) return; // our own change, already applied when we made it
      await context.getHeartbeat()();
      await this.processed.once(event.id, (tx) => this.store.apply(tx, event));
    }
  }
  return CustomerEventsController;
}
