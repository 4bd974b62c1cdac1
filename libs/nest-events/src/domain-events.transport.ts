import { Transport, type KafkaOptions } from '@nestjs/microservices';
import { syncProducerConfig } from '@sync/kafka';
import { DomainEventDeserializer } from './domain-event.deserializer';

export interface DomainEventsTransportOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Consumer group of the service: one per service, shared by its replicas. */
  readonly groupId: string;
  /** Read a new group's topics from their first event (default true: a new service needs the history). */
  readonly fromBeginning?: boolean;
  /** Further kafkajs client settings (ssl, sasl, …). */
  readonly client?: Omit<NonNullable<KafkaOptions['options']>['client'], 'brokers' | 'clientId'>;
}

/**
 * Options for `NestFactory.createMicroservice` / `app.connectMicroservice`: the Kafka transport of
 * @nestjs/microservices reading the suite's domain topics. Handlers declared with
 * `@EventPattern('<domain topic>')` receive a DomainEvent (or an InvalidDomainEvent).
 * Offsets are committed by kafkajs after the handler's promise resolves; a handler that throws
 * has its event delivered again, so handlers write through ProcessedEvents.once.
 */
export function domainEventsTransport(options: DomainEventsTransportOptions): KafkaOptions {
  if (options.brokers.length === 0) throw new Error('domainEventsTransport: brokers is empty');
  if (options.groupId.trim() === '') throw new Error('domainEventsTransport: groupId is empty');
  return {
    transport: Transport.KAFKA,
    options: {
      client: { ...options.client, clientId: options.clientId, brokers: [...options.brokers] },
      consumer: { groupId: options.groupId, allowAutoTopicCreation: false },
      subscribe: { fromBeginning: options.fromBeginning ?? true },
      // Values stay bytes: the deserializer decodes the CloudEvent itself.
      parser: { keepBinary: true },
      deserializer: new DomainEventDeserializer(),
      // Nest's server-side producer (replies; unused by events): the suite's producer settings.
      producer: syncProducerConfig(),
      // The group id is used as given: Nest appends "-server" unless postfixId is set.
      postfixId: '',
    },
  };
}
