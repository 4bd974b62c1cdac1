import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import 'reflect-metadata';
import { Controller, Module, UseFilters, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Topics } from '@sync/contracts';
import { EnvironmentError } from '@sync/errors';
import { KafkaConnection, silentLog, type SyncProducer } from '@sync/kafka';
import { DomainEventErrorsFilter, DomainEventsBatchServer, serviceEventMessage, validEvents, type DomainEventBatch } from '@sync/nest-events';
import { testBrokers, uniqueName } from '../../support/test-env';
import { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';

/** What the handlers saw and kept, shared with the test. */
interface Probe {
  readonly applied: string[];
  readonly batchSizes: number[];
  outageLeft: number;
  readonly failOn: Set<string>;
}

/**
 * A controller keeping event ids: a database outage (EnvironmentError) for its first calls, and an
 * error of no known kind for the ids in `failOn`. `filtered`: with DomainEventErrorsFilter.
 */
function probeController(topic: string, probe: Probe, filtered: boolean): Type<unknown> {
  @Controller()
  class Handlers {
    @EventPattern(topic)
    async on(@Payload() batch: DomainEventBatch): Promise<void> {
      probe.batchSizes.push(batch.events.length);
      if (probe.outageLeft > 0) {
        probe.outageLeft--;
        throw new EnvironmentError('service database: connect ECONNREFUSED');
      }
      const events = validEvents(batch);
      for (const e of events) if (probe.failOn.has(e.id)) throw new Error(`cannot apply ${e.id}`);
      probe.applied.push(...events.map((e) => e.id));
    }
  }
  if (filtered) UseFilters(DomainEventErrorsFilter)(Handlers);
  return Handlers;
}

describe('nest-events: DomainEventsBatchServer hands @EventPattern batches and decides by error kind (real Kafka)', () => {
  const kafka = new KafkaConnection({ brokers: testBrokers(), clientId: 'it-nest-batch' }, silentLog);
  const app = uniqueName('itnestbatch').toLowerCase();
  const dlq = new TopicCollector();
  const apps: INestMicroservice[] = [];
  let producer: SyncProducer;

  const events = (topic: string, ids: readonly string[]) =>
    ids.map((id) => ({ topic, ...serviceEventMessage({ id, type: 'CustomerChanged', subject: `gid-${id}`, data: { name: id } }, { source: 'urn:it', origin: 'legacy:it', aggregate: 'Customer' }) }));

  async function start(topic: string, probe: Probe, filtered: boolean): Promise<void> {
    @Module({ controllers: [probeController(topic, probe, filtered)] })
    class ProbeModule {}
    const strategy = new DomainEventsBatchServer({ kafka: { brokers: testBrokers(), clientId: 'it-nest-batch' }, groupId: uniqueName('it-nest-batch'), app, log: silentLog });
    const nest = await NestFactory.createMicroservice(ProbeModule, { strategy, logger: false });
    apps.push(nest);
    await nest.listen();
  }

  const lettersOf = (topic: string) => dlq.items.filter((c) => c.message.headers['dlq-source-topic'] === topic);

  before(async () => {
    const admin = kafka.admin();
    await admin.ensureTopics([{ topic: Topics.dlq(app) }]);
    await admin.disconnect();
    producer = kafka.producer();
    await producer.connect();
    await dlq.start([Topics.dlq(app)]);
  });

  after(async () => {
    for (const a of apps) await a.close().catch(() => undefined);
    await dlq.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
  });

  it('retries a batch through an outage and dead-letters only the message that keeps failing, the others applied in order', async () => {
    const topic = uniqueName('it.nestbatch.a');
    const admin = kafka.admin();
    await admin.ensureTopics([{ topic }]);
    await admin.disconnect();
    const ids = Array.from({ length: 20 }, (_, i) => `a${String(i).padStart(2, '0')}`);
    await producer.send(events(topic, ids));
    const probe: Probe = { applied: [], batchSizes: [], outageLeft: 2, failOn: new Set(['a07']) };
    await start(topic, probe, true);
    const letter = await waitFor('a07 dead-lettered', () => lettersOf(topic)[0], 60_000, 100);
    await waitFor('the rest applied', () => probe.applied.length >= 19, 30_000, 100);
    assert.deepEqual(probe.applied, ids.filter((id) => id !== 'a07'));
    // More than one message per call: a batch, not Nest's eachMessage.
    assert.ok(Math.max(...probe.batchSizes) > 1, `batch sizes ${probe.batchSizes.join(',')}`);
    assert.equal(letter.message.headers['dlq-error-kind'], 'unknown');
    assert.equal(letter.message.headers['dlq-reason'], 'cannot apply a07');
    assert.equal(lettersOf(topic).length, 1, 'the outage dead-lettered nothing');
  });

  it("without DomainEventErrorsFilter, Nest's RPC filter hides the outage's kind: its events are dead-lettered as unclassified", async () => {
    const topic = uniqueName('it.nestbatch.b');
    const admin = kafka.admin();
    await admin.ensureTopics([{ topic }]);
    await admin.disconnect();
    await producer.send(events(topic, ['b1']));
    const probe: Probe = { applied: [], batchSizes: [], outageLeft: 100, failOn: new Set() };
    await start(topic, probe, false);
    const letter = await waitFor('b1 dead-lettered', () => lettersOf(topic)[0], 60_000, 100);
    assert.equal(letter.message.headers['dlq-error-kind'], 'unknown');
    assert.match(letter.message.headers['dlq-reason'] ?? '', /DomainEventErrorsFilter/);
    assert.deepEqual(probe.applied, []);
  });
});
