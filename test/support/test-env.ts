import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { KAFKA_CLIENTS, KafkaConnection, silentLog, type KafkaClientKind, type KafkaConnectionOptions, type KafkaConnectionSettings, type LogSink } from '@sync/kafka';

/** Brokers the test command started (scripts/test.sh exports KAFKA_BROKERS). */
export function testBrokers(): string[] {
  const raw = process.env['KAFKA_BROKERS'];
  if (!raw) throw new Error('KAFKA_BROKERS is not set: run the tests through `npm test`, which starts Kafka');
  return raw.split(',').map((b) => b.trim());
}

/** A connection string for the local PostgreSQL (DATABASE_URL, or 127.0.0.1:5432 as postgres). */
export function testDatabaseUrl(database = 'postgres'): string {
  const base = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A database's URL on the PostgreSQL cluster with wal_level=logical (PG_LOGICAL_URL, which
 * scripts/test.sh sets after starting scripts/pg-logical.sh), or undefined: the logical-decoding
 * tests are skipped then.
 */
export function testLogicalUrl(database = 'postgres'): string | undefined {
  const base = process.env['PG_LOGICAL_URL']?.trim();
  if (!base) return undefined;
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * The SQL Server the SQL Server variants of the integration suites run against, or undefined
 * (they are skipped then): `mssql://user:password@host:port/database` (docs/sqlserver.md).
 */
export function testMssqlUrl(): string | undefined {
  const url = process.env['MSSQL_URL']?.trim();
  return url ? url : undefined;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/**
 * The Kafka client library the libs/kafka integration tests run on: KAFKA_TEST_CLIENT (kafkajs or
 * confluent; test/integration/kafka/confluent/ sets confluent), kafkajs when unset.
 */
export function testKafkaClient(): KafkaClientKind {
  const raw = process.env['KAFKA_TEST_CLIENT']?.trim() || 'kafkajs';
  if (!(KAFKA_CLIENTS as readonly string[]).includes(raw)) throw new Error(`KAFKA_TEST_CLIENT must be one of ${KAFKA_CLIENTS.join(', ')}, got '${raw}'`);
  return raw as KafkaClientKind;
}

/**
 * A connection on testKafkaClient(). Fails loudly when the client asked for is not the one the
 * connection runs on (the Confluent client not installed: `npm run kafka:confluent`), instead of
 * passing on kafkajs' fallback.
 */
export function testKafkaConnection(options: KafkaConnectionOptions, log: LogSink = silentLog, settings?: KafkaConnectionSettings): KafkaConnection {
  const client = testKafkaClient();
  const connection = new KafkaConnection({ ...options, client }, log, settings);
  if (connection.client !== client) {
    throw new Error(`the tests ask for the ${client} Kafka client but the connection runs on ${connection.client}: install it with \`npm run kafka:confluent\``);
  }
  return connection;
}
