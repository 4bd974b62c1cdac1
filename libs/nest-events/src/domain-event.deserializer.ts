import type { ConsumerDeserializer, IncomingEvent } from '@nestjs/microservices';
import { toDomainEvent, type RawKafkaMessage } from './domain-event';

/**
 * Turns every message of a domain topic into the payload of an `@EventPattern(<topic>)` handler:
 * a DomainEvent, or an InvalidDomainEvent saying why it is not one (so one bad message never
 * blocks the partition behind it). Needs the transport's parser with `keepBinary: true`, which
 * `domainEventsTransport` sets.
 */
export class DomainEventDeserializer implements ConsumerDeserializer {
  deserialize(value: unknown, options?: Record<string, unknown>): IncomingEvent {
    const raw = (value ?? {}) as RawKafkaMessage;
    const channel = typeof options?.['channel'] === 'string' ? options['channel'] : (raw.topic ?? '');
    return { pattern: channel, data: toDomainEvent(raw.topic === undefined ? { ...raw, topic: channel } : raw) };
  }
}
