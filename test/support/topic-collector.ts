import { KafkaConnection, silentLog, type BatchConsumerRunner, type InboundMessage, type SyncProducer } from '@sync/kafka';
import { testBrokers, uniqueName } from './test-env';
import { waitFor } from './wait-for';

export interface Collected {
  readonly message: InboundMessage;
  readonly key: unknown;
  readonly value: unknown;
}

function parse(buf: Buffer | null): unknown {
  if (buf === null) return null;
  try {
    return JSON.parse(buf.toString());
  } catch {
    return buf.toString();
  }
}

/** Reads topics from their start into memory with a throwaway consumer group. */
export class TopicCollector {
  readonly items: Collected[] = [];
  private runner: BatchConsumerRunner | undefined;
  private producer: SyncProducer | undefined;
  readonly connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'test-collector' }, silentLog);

  async start(topics: ReadonlyArray<string | RegExp>): Promise<this> {
    this.producer = this.connection.producer();
    await this.producer.connect();
    // Subscribing to a topic that does not exist yet fails: create the named ones first.
    const admin = this.connection.admin();
    await admin.ensureTopics(topics.filter((t): t is string => typeof t === 'string').map((topic) => ({ topic })));
    await admin.disconnect();
    this.runner = this.connection.batchConsumer(this.producer, {
      app: 'test-collector',
      groupId: uniqueName('collector'),
      topics,
      handler: async (batch) => {
        for (const m of batch) this.items.push({ message: m, key: parse(m.key), value: parse(m.value) });
      },
    });
    await this.runner.start();
    return this;
  }

  on(topic: string): Collected[] {
    return this.items.filter((i) => i.message.topic === topic);
  }

  async waitForCount(topic: string, count: number, timeoutMs = 60_000): Promise<Collected[]> {
    return waitFor(`${count} messages on ${topic} (have ${this.on(topic).length})`, () => (this.on(topic).length >= count ? this.on(topic) : undefined), timeoutMs, 100);
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
    await this.producer?.disconnect();
  }
}
