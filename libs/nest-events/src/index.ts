export { toDomainEvent, isInvalidDomainEvent } from './domain-event';
export type { DomainEvent, InvalidDomainEvent, RawKafkaMessage } from './domain-event';
export { DomainEventDeserializer } from './domain-event.deserializer';
export { domainEventsTransport } from './domain-events.transport';
export type { DomainEventsTransportOptions } from './domain-events.transport';
export { ProcessedEvents } from './processed-events';
export { ServiceEvents, serviceEventMessage } from './service-events';
export type { ServiceChange, ServiceEventsOptions } from './service-events';
