import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { applyHeapFlags } from '@sync/app-core';
import { Topics } from '@sync/contracts';
import { KafkaConnection } from '@sync/kafka';
import { createLogger, NestJsonLogger } from '@sync/observability';
import { ChangePublisher } from './change.publisher';
import { startNewService } from './new-service.app';
import { ServiceRepository, type Address } from './service.repository';
import { ServiceStats } from './service-stats';

const USAGE = `Usage: node dist/examples/new-service/src/main.js --brokers HOST:PORT --database-url URL
         [--user-aggregate user] [--order-aggregate order] [--name profile] [--port 8090]
         [--simulate-seconds N] [--simulate-interval-ms 500] [--concurrency 2]
         [--heap-growing-percent 100]

A sample new service: keeps users, addresses and orders (by global id) in its own PostgreSQL
tables from the domain events, and publishes its own changes as CloudEvents. With
--simulate-seconds it also makes changes of its own for that long: it creates users and moves
the users it created. /metrics (Prometheus) and /health on --port. A NestJS microservice:
@EventPattern handlers on @nestjs/microservices' Kafka transport, consuming in batches
(@sync/nest-events' DomainEventsBatchServer); each fetched batch (one topic-partition) is written
in one transaction with set-based statements; --concurrency partitions are applied at the same
time (default 2; order per key is kept, a key lives on one partition). Own changes go out
through ClientKafka. --heap-growing-percent: V8's old generation may grow this far past its
live data before the next full collection (0: V8's adaptive factor, up to 300 %), as the suite's
apps do with HEAP_GROWING_PERCENT.`;

const { values } = parseArgs({
  options: {
    brokers: { type: 'string' },
    'database-url': { type: 'string' },
    'user-aggregate': { type: 'string', default: 'user' },
    'order-aggregate': { type: 'string', default: 'order' },
    name: { type: 'string', default: 'profile' },
    port: { type: 'string', default: '8090' },
    'simulate-seconds': { type: 'string', default: '0' },
    'simulate-interval-ms': { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '2' },
    'heap-growing-percent': { type: 'string', default: '100' },
    help: { type: 'boolean' },
  },
});
if (values.help || !values.brokers || !values['database-url']) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(values.help ? 0 : 2);
}
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
  process.stderr.write(`new-service: --concurrency must be an integer from 1 to 64, got '${values.concurrency}'\n`);
  process.exit(2);
}
const heapGrowingPercent = Number(values['heap-growing-percent']);
if (!Number.isInteger(heapGrowingPercent) || heapGrowingPercent < 0 || heapGrowingPercent > 300) {
  process.stderr.write(`new-service: --heap-growing-percent must be an integer from 0 to 300, got '${values['heap-growing-percent']}'\n`);
  process.exit(2);
}
applyHeapFlags({ heapGrowingPercent });

const CITIES = ['Springfield', 'Shelbyville', 'Ogdenville', 'North Haverbrook', 'Capital City', 'Brockway'];

function randomAddress(): Address {
  const n = Math.floor(Math.random() * 900) + 1;
  return { street: `${n} Service Way`, city: CITIES[n % CITIES.length]!, zip: String(10000 + n) };
}

async function main(): Promise<void> {
  const name = values.name!;
  const log = createLogger('new-service', 'info');
  const brokers = values.brokers!.split(',');
  const userTopic = Topics.domain(values['user-aggregate']!, 1);
  const orderTopic = Topics.domain(values['order-aggregate']!, 1);
  const connection = new KafkaConnection({ brokers, clientId: `new-service-${name}` }, log);
  const admin = connection.admin();
  // Its dead-letter topic too: the dead-letter producer does not create topics, a missing one blocks dead-lettering.
  await admin.ensureTopics([{ topic: userTopic }, { topic: orderTopic }, { topic: Topics.dlq('new-service') }]);
  await admin.disconnect();
  const origin = `service:${name}`;
  const app = await startNewService({
    brokers,
    clientId: `new-service-${name}`,
    databaseUrl: values['database-url']!,
    userTopic,
    orderTopic,
    userAggregate: values['user-aggregate']!,
    source: `/services/${name}`,
    origin,
    groupId: `new-service.${name}.${values['user-aggregate']}`,
    concurrency,
    log,
    // Nest's lines (start-up, exceptions) as JSON through the same logger.
    nestLogger: new NestJsonLogger(log),
  });
  const repository = app.get(ServiceRepository);
  const stats = app.get(ServiceStats);
  const publisher = app.get(ChangePublisher);

  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      stats.metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': stats.metrics.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else if (req.url === '/health') {
      repository.counts().then(
        (counts) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', ...counts })),
        (err: unknown) => res.writeHead(503).end(String(err)),
      );
    } else res.writeHead(404).end();
  });
  server.listen(Number(values.port), '127.0.0.1');

  // Own changes touch only users this service created, so they never race a legacy edit of the same row.
  const own: string[] = [];
  const until = Date.now() + Number(values['simulate-seconds']) * 1000;
  const timer = setInterval(() => {
    if (Date.now() > until) return void clearInterval(timer);
    const step = async (): Promise<void> => {
      if (own.length < 3 || Math.random() < 0.4) {
        const id = randomUUID();
        const n = own.length + 1;
        const address = randomAddress();
        await repository.createUser(id, `${name} user ${n}`, `${name}.${n}@example.org`, address);
        own.push(id);
        await publisher.publish([
          { type: 'UserChanged', subject: id, data: { name: `${name} user ${n}`, email: `${name}.${n}@example.org` } },
          { type: 'AddressChanged', subject: id, data: { ...address } },
        ]);
      } else {
        const id = own[Math.floor(Math.random() * own.length)]!;
        const address = randomAddress();
        const basedOn = await repository.legacyVersion(id);
        await repository.moveUser(id, address);
        await publisher.publish([{ type: 'AddressChanged', subject: id, data: { ...address }, ...(basedOn !== undefined && { basedOn }) }]);
      }
    };
    step().catch((err: unknown) => log.error({ err: String(err) }, 'own change failed'));
  }, Number(values['simulate-interval-ms']));

  const stop = (): void => {
    clearInterval(timer);
    server.close();
    app
      .close()
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  log.info({ userTopic, orderTopic, port: values.port }, 'new service running');
}

main().catch((err: unknown) => {
  process.stderr.write(`new-service: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
