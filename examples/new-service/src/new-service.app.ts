import { NestFactory } from '@nestjs/core';
import type { INestMicroservice, LoggerService, LogLevel } from '@nestjs/common';
import type { LogSink } from '@sync/kafka';
import { DomainEventsBatchServer } from '@sync/nest-events';
import { NewServiceModule, type NewServiceOptions } from './new-service.module';

export interface NewServiceAppOptions extends NewServiceOptions {
  readonly groupId: string;
  /** Partitions applied at the same time (each batch is one partition, in order). */
  readonly concurrency: number;
  readonly log: LogSink;
  /** Nest's own log lines (default: errors and warnings on Nest's console logger). */
  readonly nestLogger?: LoggerService | LogLevel[] | false;
}

/**
 * The service as a NestJS microservice on @nestjs/microservices' Kafka transport, consuming in
 * batches (DomainEventsBatchServer); started and listening when this resolves.
 */
export async function startNewService(options: NewServiceAppOptions): Promise<INestMicroservice> {
  const strategy = new DomainEventsBatchServer({
    kafka: { brokers: options.brokers, clientId: options.clientId },
    groupId: options.groupId,
    app: 'new-service',
    partitionsConsumedConcurrently: options.concurrency,
    log: options.log,
  });
  const app = await NestFactory.createMicroservice(NewServiceModule.forRoot(options), { strategy, logger: options.nestLogger ?? ['error', 'warn'] });
  await app.listen();
  return app;
}
