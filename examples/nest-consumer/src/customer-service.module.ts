import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ClientKafka } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { syncProducerConfig } from '@sync/kafka';
import { ProcessedEvents, ServiceEvents } from '@sync/nest-events';
import { customerEventsController } from './customer-events.controller';
import { CustomerStore } from './customer.store';

export interface CustomerServiceOptions {
  readonly brokers: readonly string[];
  /** The domain topic of customers, e.g. `domain.crm.customer`. */
  readonly topic: string;
  readonly databaseUrl: string;
  readonly clientId: string;
  /** CloudEvents source and origin of this service's own changes. */
  readonly source: string;
  readonly origin: string;
}

const OPTIONS = Symbol('CustomerServiceOptions');

/** Creates the service's tables on start and closes the pool and the Kafka client on shutdown. */
@Injectable()
class Lifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(CustomerStore) private readonly store: CustomerStore,
    @Inject(ProcessedEvents) private readonly processed: ProcessedEvents,
    @Inject(ClientKafka) private readonly client: ClientKafka,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.dataSource.initialize();
    await this.store.ensureTable();
    await this.processed.ensureTable();
    await this.client.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
    await this.dataSource.destroy();
  }
}

/** The example NestJS service: keeps customers from the domain topic, sends its own changes back. */
@Module({})
export class CustomerServiceModule {
  static forRoot(options: CustomerServiceOptions): DynamicModule {
    return {
      module: CustomerServiceModule,
      controllers: [customerEventsController(options.topic)],
      providers: [
        { provide: OPTIONS, useValue: options },
        { provide: DataSource, useFactory: () => new DataSource({ type: 'postgres', url: options.databaseUrl, extra: { max: 4 } }) },
        { provide: CustomerStore, useFactory: (dataSource: DataSource) => new CustomerStore(dataSource), inject: [DataSource] },
        { provide: ProcessedEvents, useFactory: (dataSource: DataSource) => new ProcessedEvents(dataSource), inject: [DataSource] },
        {
          provide: ClientKafka,
          // Producer only: the service sends events, it reads through the microservice transport.
          useFactory: () => new ClientKafka({ client: { clientId: options.clientId, brokers: [...options.brokers] }, producerOnlyMode: true, producer: syncProducerConfig(), send: { acks: -1 } }),
        },
        { provide: ServiceEvents, useFactory: (client: ClientKafka) => new ServiceEvents(client, { source: options.source, origin: options.origin, aggregate: 'Customer' }), inject: [ClientKafka] },
        Lifecycle,
      ],
      exports: [CustomerStore, ServiceEvents],
    };
  }
}
