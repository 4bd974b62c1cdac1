import { Kafka, logLevel, type KafkaConfig, type SASLOptions, type logCreator } from 'kafkajs';
import { CONFLUENT_PACKAGE, ConfluentClientAdapter, loadConfluentClient } from './confluent-client.adapter';
import type { KafkaClientPort } from './kafka-client.port';
import type { KafkaClientKind, KafkaConnectionOptions, LogSink } from './kafka.interface';
import { kafkaLogBridge } from './kafka-log.bridge';

function saslOptions(options: KafkaConnectionOptions): SASLOptions | undefined {
  const sasl = options.sasl;
  if (!sasl) return undefined;
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password.reveal() };
}

/** Routes kafkajs' own log lines into the app's structured logger (kafka-log.bridge.ts says what it leaves out). */
function logBridge(log: LogSink): logCreator {
  const bridge = kafkaLogBridge(log);
  return () => ({ namespace, level, log: entry }) => {
    const { message, ...fields } = entry;
    bridge({ namespace, message, fields, level: level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : level === logLevel.INFO ? 'info' : 'debug' });
  };
}

/** Builds the kafkajs client from validated settings (TLS and SASL included). */
export function createKafkajsClient(options: KafkaConnectionOptions, log: LogSink): Kafka {
  if (options.brokers.length === 0) throw new Error('kafka: no brokers configured');
  const tls = options.tls;
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: 30_000,
    logLevel: logLevel.WARN,
    logCreator: logBridge(log),
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
    ...(tls ? { ssl: { rejectUnauthorized: tls.rejectUnauthorized, ca: tls.ca, cert: tls.cert, key: tls.key?.reveal() } } : {}),
  };
  const sasl = saslOptions(options);
  if (sasl) config.sasl = sasl;
  return new Kafka(config);
}

/** The client a connection runs on, and which library it is (the one asked for, or kafkajs when that is missing). */
export interface KafkaClientChoice {
  readonly client: KafkaClientPort;
  readonly kind: KafkaClientKind;
}

/**
 * The client `options.client` asks for. Confluent's is an optional dependency: when it is not
 * installed (or its native build is missing) the connection runs on kafkajs and says so once, at
 * warn level, with the command that installs it. Admin calls run on kafkajs either way.
 */
export function createKafkaClient(options: KafkaConnectionOptions, log: LogSink): KafkaClientChoice {
  const kafkajs = createKafkajsClient(options, log);
  if ((options.client ?? 'kafkajs') === 'kafkajs') return { client: kafkajs, kind: 'kafkajs' };
  const loaded = loadConfluentClient();
  if ('missing' in loaded) {
    log.warn(
      { requested: 'confluent', using: 'kafkajs', package: CONFLUENT_PACKAGE, reason: loaded.missing },
      `kafka.client is confluent but ${CONFLUENT_PACKAGE} cannot be loaded: falling back to kafkajs (install it with npm run kafka:confluent)`,
    );
    return { client: kafkajs, kind: 'kafkajs' };
  }
  log.info({ client: 'confluent', package: CONFLUENT_PACKAGE }, 'kafka producers and consumers run on the Confluent client (librdkafka)');
  return { client: new ConfluentClientAdapter(loaded.module, options, log, () => kafkajs.admin()), kind: 'confluent' };
}
