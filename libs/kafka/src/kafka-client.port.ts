import type { Admin, Consumer, ConsumerConfig, Producer, ProducerConfig } from 'kafkajs';

/**
 * What the rest of libs/kafka needs of a client library: producers, consumers and an admin client
 * in kafkajs' shape. kafkajs' `Kafka` is one; the Confluent adapter (confluent-client.adapter.ts)
 * is the other, so producers, consumers and readers keep one code path whichever client runs.
 */
export interface KafkaClientPort {
  producer(config?: ProducerConfig): Producer;
  consumer(config: ConsumerConfig): Consumer;
  admin(): Admin;
}
