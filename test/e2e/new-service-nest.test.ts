import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Headers, Topics } from '@sync/contracts';
import { KafkaConnection, silentLog, type SyncProducer } from '@sync/kafka';
import { dataSchemaUri, encodeDomainEvent, LEGACY_VERSION_EXTENSION } from '@sync/mapping';
import { freePort } from '../support/app-process';
import { LegacyDatabase } from '../support/legacy-database';
import { repoRoot, testBrokers, uniqueName } from '../support/test-env';
import { waitFor } from '../support/wait-for';

/** The sample new service as its own process (compiled main.js), with its output kept. */
class ServiceProcess {
  output = '';
  private readonly exited: Promise<unknown>;

  constructor(
    readonly proc: ChildProcess,
    readonly port: number,
  ) {
    const keep = (chunk: Buffer): void => void (this.output += chunk.toString());
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = once(proc, 'exit');
  }

  static async start(args: readonly string[]): Promise<ServiceProcess> {
    const port = await freePort();
    const proc = spawn(process.execPath, ['--enable-source-maps', path.join(repoRoot, 'dist/examples/new-service/src/main.js'), ...args, '--port', String(port)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    return new ServiceProcess(proc, port);
  }

  /** A counter of /metrics summed over its labels (0 while it does not answer). */
  async counter(name: string): Promise<number> {
    try {
      const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      return [...text.matchAll(new RegExp(`^\\S*${name}\\{[^}]*\\} (\\d+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    } catch {
      return 0;
    }
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    await this.exited;
  }
}

/**
 * examples/new-service end to end: it is a NestJS microservice whose `@EventPattern` handlers
 * receive the domain topics through @nestjs/microservices' Kafka transport (DomainEventsBatchServer,
 * eachBatch), and every event id is applied once, even when Kafka delivers the whole topic again.
 */
describe('examples/new-service consumes through @nestjs/microservices, each event id once', () => {
  const kafka = new KafkaConnection({ brokers: testBrokers(), clientId: 'e2e-nestsvc' }, silentLog);
  const aggregate = uniqueName('nestsvc').toLowerCase();
  const orderAggregate = `${aggregate}o`;
  const userTopic = Topics.domain(aggregate, 1);
  const orderTopic = Topics.domain(orderAggregate, 1);
  let producer: SyncProducer;
  let db: LegacyDatabase;
  const services: ServiceProcess[] = [];

  const args = (name: string): string[] => ['--brokers', testBrokers().join(','), '--database-url', db.url, '--user-aggregate', aggregate, '--order-aggregate', orderAggregate, '--name', name];

  const userChanged = (id: string, subject: string, name: string, version: number) => {
    const encoded = encodeDomainEvent({
      id,
      source: '/legacy/crm',
      type: 'UserChanged',
      subject,
      time: new Date().toISOString(),
      dataschema: dataSchemaUri(aggregate, 1, 'UserChanged'),
      data: { name, email: `${name}@example.org` },
      extensions: { [LEGACY_VERSION_EXTENSION]: `crm.public.users@${version}` },
    });
    return { topic: userTopic, key: encoded.key, value: encoded.value, headers: { ...encoded.headers, [Headers.eventId]: id, [Headers.origin]: 'legacy:crm', [Headers.causationId]: id } };
  };

  before(async () => {
    db = await LegacyDatabase.create('e2e_nestsvc');
    const admin = kafka.admin({ partitions: 2 });
    await admin.ensureTopics([{ topic: userTopic }, { topic: orderTopic }]);
    await admin.disconnect();
    producer = kafka.producer();
    await producer.connect();
  });

  after(async () => {
    for (const s of services) await s.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await db?.drop();
  });

  it('runs as a Nest microservice with @EventPattern handlers on both domain topics, applies a redelivered event id once, and a second group replaying the topic changes nothing', async () => {
    const ids = Array.from({ length: 40 }, () => randomUUID());
    // 40 changes of 4 users; then the first ten once more with their ids (a producer retry, a replay): no effect.
    const first = ids.map((id, i) => userChanged(id, `u${i % 4}`, `name-${i}`, i));
    await producer.send([...first, ...first.slice(0, 10)]);

    const a = await ServiceProcess.start(args(uniqueName('a')));
    services.push(a);
    const expected = [0, 1, 2, 3].map((k) => ({ id: `u${k}`, name: `name-${36 + k}`, legacy_version: `crm.public.users@${36 + k}` }));
    const users = () => db.exec('SELECT id, name, legacy_version FROM users ORDER BY id');
    await waitFor('the last change of each user applied', async () => JSON.stringify(await users()) === JSON.stringify(expected), 90_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n${a.output.slice(-4000)}`);
    });
    await waitFor('all 50 messages read', async () => (await a.counter('service_events_seen_total')) >= 50, 60_000, 250);
    // Nest's own start-up line, and the Nest server's subscription made from the @EventPattern handlers' topics.
    const lines = a.output.split('\n').flatMap((l) => (l.startsWith('{') ? [JSON.parse(l) as { msg?: string; context?: string; topics?: string[] }] : []));
    assert.ok(lines.some((l) => l.context === 'NestMicroservice' && l.msg === 'Nest microservice successfully started'), a.output.slice(-4000));
    const subscribed = lines.find((l) => l.msg === 'DomainEventsBatchServer: @EventPattern handlers subscribed (eachBatch)');
    assert.deepEqual(subscribed?.topics, [userTopic, orderTopic], a.output.slice(-4000));
    assert.equal(await a.counter('service_events_applied_total'), 40);
    assert.deepEqual(await db.exec('SELECT count(*)::int AS n FROM processed_events'), [{ n: 40 }]);
    await a.stop();

    // Another service name is another consumer group: Kafka delivers the whole topic again.
    const b = await ServiceProcess.start(args(uniqueName('b')));
    services.push(b);
    await waitFor('the replay read', async () => (await b.counter('service_events_seen_total')) >= 50, 90_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n${b.output.slice(-4000)}`);
    });
    assert.equal(await b.counter('service_events_applied_total'), 0);
    assert.deepEqual(await users(), expected);
    assert.deepEqual(await db.exec('SELECT count(*)::int AS n FROM processed_events'), [{ n: 40 }]);
  });
});
