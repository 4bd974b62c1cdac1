import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ClientKafka } from '@nestjs/microservices';
import { syncProducerConfig } from '@sync/kafka';
import { ServiceEvents } from '@sync/nest-events';
import { ChangePublisher } from './change.publisher';
import { domainEventsController } from './domain-events.controller';
import { ServiceRepository } from './service.repository';
import { ServiceStats } from './service-stats';

export interface NewServiceOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly databaseUrl: string;
  /** Domain topics it keeps: users (with addresses) and orders. */
  readonly userTopic: string;
  readonly orderTopic: string;
  /** Aggregate of its own changes (dataschema URI); they go to userTopic. */
  readonly userAggregate: string;
  /** CloudEvents source and origin header of its own changes. */
  readonly source: string;
  readonly origin: string;
}

/** Creates the service's tables on start; closes the Kafka client and the pool on shutdown. */
@Injectable()
class Lifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(ServiceRepository) private readonly repository: ServiceRepository,
    @Inject(ClientKafka) private readonly client: ClientKafka,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.repository.connect();
    await this.client.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
    await this.repository.close();
  }
}

/** The sample new service: keeps users, addresses and orders from the domain topics, sends its own changes back. */
@Module({})
export class NewServiceModule {
  static forRoot(options: NewServiceOptions): DynamicModule {
    return {
      module: NewServiceModule,
      controllers: [domainEventsController({ users: options.userTopic, orders: options.orderTopic })],
      providers: [
        { provide: ServiceRepository, useFactory: () => new ServiceRepository(options.databaseUrl) },
        { provide: ServiceStats, useValue: new ServiceStats() },
        {
          provide: ClientKafka,
          // Producer only: the service reads through the microservice transport.
          useFactory: () => new ClientKafka({ client: { clientId: options.clientId, brokers: [...options.brokers] }, producerOnlyMode: true, producer: syncProducerConfig(), send: { acks: -1 } }),
        },
        { provide: ServiceEvents, useFactory: (client: ClientKafka) => new ServiceEvents(client, { source: options.source, origin: options.origin, aggregate: options.userAggregate }), inject: [ClientKafka] },
        { provide: ChangePublisher, useFactory: (events: ServiceEvents, stats: ServiceStats) => new ChangePublisher(events, stats, { topic: options.userTopic }), inject: [ServiceEvents, ServiceStats] },
        Lifecycle,
      ],
      exports: [ServiceRepository, ServiceStats, ChangePublisher],
    };
  }
}
