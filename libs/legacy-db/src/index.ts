export { createLegacyDb } from './legacy-db.factory';
export { LegacyDbModule, LegacyDbRegistry } from './legacy-db.module';
export { PostgresLegacyDb, postgresPoolConfig } from './postgres.legacy-db';
export { MssqlLegacyDb, mssqlPoolConfig } from './mssql.legacy-db';
export type { LegacyDb, LegacyDbOptions, DbTlsOptions, Dialect } from './legacy-db.interface';
