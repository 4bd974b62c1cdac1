import type { SystemConfig } from '@sync/config';
import type { LegacyDb } from './core/legacy-db.interface';
import { MssqlLegacyDb } from './mssql/mssql.legacy-db';
import { PostgresLegacyDb } from './postgres/postgres.legacy-db';
import { MssqlWritebackSink } from './mssql/mssql-writeback.sink';
import { PostgresWritebackSink } from './postgres/postgres-writeback.sink';
import type { WritebackSink } from './core/writeback-sink.interface';

/** The write-back sink for a system's dialect, on the system's pool. */
export function createWritebackSink(db: LegacyDb, system: SystemConfig): WritebackSink {
  if (db instanceof PostgresLegacyDb) return new PostgresWritebackSink(db.pool, system);
  if (db instanceof MssqlLegacyDb) return new MssqlWritebackSink(db, system);
  throw new Error(`no write-back sink for ${db.dialect} (system ${db.system})`);
}
