import { Kafka, logLevel, type KafkaConfig, type SASLOptions, type logCreator } from 'kafkajs';
import type { KafkaConnectionOptions, LogSink } from './kafka.interface';
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
export function createKafkaClient(options: KafkaConnectionOptions, log: LogSink): Kafka {
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
