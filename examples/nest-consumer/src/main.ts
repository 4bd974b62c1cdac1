import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { domainEventsTransport } from '@sync/nest-events';
import { CustomerServiceModule } from './customer-service.module';

const HELP = `Usage: node dist/examples/nest-consumer/src/main.js

An example NestJS service consuming the suite's customer domain events with @nestjs/microservices'
Kafka transport (@EventPattern), exactly once per event id, and sending its own changes with ClientKafka.

Environment (all required except where a default is given):
  KAFKA_BROKERS      host:port[,host:port]     default 127.0.0.1:19092
  DOMAIN_TOPIC       the customers domain topic, e.g. domain.crm.customer
  DATABASE_URL       the service's PostgreSQL database (tables nest_customer, processed_event are created)
  GROUP_ID           consumer group                   default nest-consumer
  SERVICE_ORIGIN     origin header of its own changes default service:nest-consumer
`;

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    console.error(`${name} is not set\n\n${HELP}`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(HELP);
    return;
  }
  const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',').map((b) => b.trim()).filter((b) => b !== '');
  const topic = required('DOMAIN_TOPIC');
  const databaseUrl = required('DATABASE_URL');
  const origin = process.env['SERVICE_ORIGIN'] ?? 'service:nest-consumer';
  const app = await NestFactory.createMicroservice(
    CustomerServiceModule.forRoot({ brokers, topic, databaseUrl, clientId: 'nest-consumer', source: 'urn:nest-consumer', origin }),
    domainEventsTransport({ brokers, clientId: 'nest-consumer', groupId: process.env['GROUP_ID'] ?? 'nest-consumer' }),
  );
  app.enableShutdownHooks();
  await app.listen();
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
