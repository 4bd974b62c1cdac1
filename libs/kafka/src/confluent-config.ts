import type { ConsumerConfig, ProducerConfig } from 'kafkajs';
import type { KafkaConnectionOptions } from './kafka.interface';

/** A librdkafka property value (https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md). */
export type RdKafkaValue = string | number | boolean;

/** The client-wide part of a Confluent KafkaJS config: the `kafkaJS` block and librdkafka properties beside it. */
export interface ConfluentClientConfig {
  readonly kafkaJS: Readonly<Record<string, unknown>>;
  readonly rdkafka: Readonly<Record<string, RdKafkaValue>>;
}

const SASL_MECHANISM = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/**
 * Maps the suite's validated connection settings onto the Confluent client: brokers, client id and
 * timeouts in the `kafkaJS` block; TLS and SASL as librdkafka properties (security.protocol,
 * sasl.mechanisms, ssl.ca.pem ...), because the Confluent client takes only `ssl: boolean` inside the
 * block. Secrets are revealed here and nowhere else; the result must never be logged.
 */
export function confluentClientConfig(options: KafkaConnectionOptions): ConfluentClientConfig {
  const rdkafka: Record<string, RdKafkaValue> = {};
  const tls = options.tls;
  const sasl = options.sasl;
  if (tls && sasl) rdkafka['security.protocol'] = 'sasl_ssl';
  else if (tls) rdkafka['security.protocol'] = 'ssl';
  else if (sasl) rdkafka['security.protocol'] = 'sasl_plaintext';
  if (tls) {
    rdkafka['enable.ssl.certificate.verification'] = tls.rejectUnauthorized;
    // A broker certificate names the host it serves: check it, as kafkajs (Node's TLS) does.
    rdkafka['ssl.endpoint.identification.algorithm'] = tls.rejectUnauthorized ? 'https' : 'none';
    if (tls.ca !== undefined) rdkafka['ssl.ca.pem'] = tls.ca;
    if (tls.cert !== undefined) rdkafka['ssl.certificate.pem'] = tls.cert;
    if (tls.key !== undefined) rdkafka['ssl.key.pem'] = tls.key.reveal();
  }
  if (sasl) {
    rdkafka['sasl.mechanisms'] = SASL_MECHANISM[sasl.mechanism];
    rdkafka['sasl.username'] = sasl.username;
    rdkafka['sasl.password'] = sasl.password.reveal();
  }
  return {
    kafkaJS: {
      clientId: options.clientId,
      brokers: [...options.brokers],
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      requestTimeout: 30_000,
      retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
    },
    rdkafka,
  };
}

/** Producer settings the Confluent client takes at creation (kafkajs takes acks and compression per send). */
export interface ConfluentProducerSettings {
  readonly kafkaJS: Readonly<Record<string, unknown>>;
  readonly rdkafka: Readonly<Record<string, RdKafkaValue>>;
}

/**
 * The kafkajs producer config SyncProducer asks for, in the Confluent client's terms: idempotent
 * with acks from all in-sync replicas; Java-compatible murmur2 partitioning (kafkajs'
 * DefaultPartitioner), so both clients put a key on the same partition; no linger, because the
 * suite awaits every send (MIGRATION.md: await per send wants linger.ms 0).
 */
export function confluentProducerSettings(config: ProducerConfig = {}): ConfluentProducerSettings {
  const kafkaJS: Record<string, unknown> = { acks: -1 };
  if (config.idempotent !== undefined) kafkaJS['idempotent'] = config.idempotent;
  if (config.maxInFlightRequests !== undefined) kafkaJS['maxInFlightRequests'] = config.maxInFlightRequests;
  if (config.allowAutoTopicCreation !== undefined) kafkaJS['allowAutoTopicCreation'] = config.allowAutoTopicCreation;
  if (config.retry?.retries !== undefined || config.retry?.initialRetryTime !== undefined || config.retry?.maxRetryTime !== undefined) {
    kafkaJS['retry'] = {
      ...(config.retry.retries !== undefined && { retries: config.retry.retries }),
      ...(config.retry.initialRetryTime !== undefined && { initialRetryTime: config.retry.initialRetryTime }),
      ...(config.retry.maxRetryTime !== undefined && { maxRetryTime: config.retry.maxRetryTime }),
    };
  }
  // message.max.bytes at librdkafka's maximum: the client would otherwise refuse records over its
  // own 1,000,000-byte default that the broker accepts (its default is 1,048,588). The broker's limit
  // decides, as with kafkajs; batches stay bounded by batch.size and SyncProducer's chunking.
  return { kafkaJS, rdkafka: { partitioner: 'murmur2_random', 'linger.ms': 0, 'message.max.bytes': 1_000_000_000 } };
}

/**
 * The kafkajs consumer config in the Confluent client's terms. `fromBeginning` and `autoCommit` are
 * per consumer there (per subscribe / run in kafkajs), so they are passed in. kafkajs'
 * `retry.restartOnFailure` has no counterpart: librdkafka reconnects and rejoins by itself.
 */
export function confluentConsumerSettings(
  config: ConsumerConfig,
  subscription: { readonly fromBeginning: boolean; readonly autoCommit: boolean },
): { readonly kafkaJS: Readonly<Record<string, unknown>>; readonly rdkafka: Readonly<Record<string, RdKafkaValue>> } {
  const kafkaJS: Record<string, unknown> = {
    groupId: config.groupId,
    fromBeginning: subscription.fromBeginning,
    autoCommit: subscription.autoCommit,
  };
  if (config.sessionTimeout !== undefined) kafkaJS['sessionTimeout'] = config.sessionTimeout;
  if (config.heartbeatInterval !== undefined) kafkaJS['heartbeatInterval'] = config.heartbeatInterval;
  if (config.rebalanceTimeout !== undefined) kafkaJS['rebalanceTimeout'] = config.rebalanceTimeout;
  if (config.maxBytesPerPartition !== undefined) kafkaJS['maxBytesPerPartition'] = config.maxBytesPerPartition;
  if (config.maxWaitTimeInMs !== undefined) kafkaJS['maxWaitTimeInMs'] = config.maxWaitTimeInMs;
  if (config.allowAutoTopicCreation !== undefined) kafkaJS['allowAutoTopicCreation'] = config.allowAutoTopicCreation;
  // kafkajs hands eachBatch everything one fetch returned; librdkafka's batches are built client
  // side and default to 32 messages (js.consumer.max.batch.size): ask for batches of kafkajs' size.
  return { kafkaJS, rdkafka: { 'js.consumer.max.batch.size': 1000 } };
}
