import { randomBytes } from 'node:crypto';
import path from 'node:path';

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
