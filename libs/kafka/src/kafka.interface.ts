/**
 * The suite's own view of Kafka types, so nothing outside libs/kafka compiles against kafkajs
 * (the same boundary @nestjs/microservices draws with external/kafka.interface.ts).
 */

/** A secret value, revealed only where it is handed to kafkajs. */
export interface SecretValue {
  reveal(): string;
}

export interface KafkaTlsOptions {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: SecretValue;
  readonly rejectUnauthorized: boolean;
}

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaSaslOptions {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  readonly password: SecretValue;
}

/**
 * Which client library talks to the brokers: kafkajs (the default) or Confluent's maintained
 * @confluentinc/kafka-javascript (librdkafka), an optional dependency (docs/pipeline.md "kafka.client").
 */
export const KAFKA_CLIENTS = ['kafkajs', 'confluent'] as const;
export type KafkaClientKind = (typeof KAFKA_CLIENTS)[number];

export interface KafkaConnectionOptions {
  readonly brokers: readonly string[];
  /** Client library for producers and consumers; default kafkajs. */
  readonly client?: KafkaClientKind;
  readonly clientId: string;
  readonly tls?: KafkaTlsOptions;
  readonly sasl?: KafkaSaslOptions;
  /** How long one connection attempt may take. */
  readonly connectionTimeoutMs?: number;
}

/** A consumed message, decoupled from kafkajs' shape. */
export interface InboundMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: string;
}

/** A message to produce. */
export interface OutboundRecord {
  readonly topic: string;
  readonly key: string | Buffer | null;
  readonly value: string | Buffer | null;
  readonly headers?: Readonly<Record<string, string>>;
  readonly partition?: number;
}

/** Minimal structured logger the lib writes to (pino satisfies it). */
export interface LogSink {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLog: LogSink = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
