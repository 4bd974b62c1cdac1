import type { SystemConfig, TableConfig } from '@sync/config';
import type { LegacyDb } from './core/legacy-db.interface';
import { MssqlLegacyDb } from './mssql/mssql.legacy-db';
import { PostgresLegacyDb } from './postgres/postgres.legacy-db';
import { MssqlCdcSource } from './mssql/mssql-cdc.source';
import { MssqlChangelogSource } from './mssql/mssql-changelog.source';
import { MssqlTriggerSource } from './mssql/mssql-trigger.source';
import type { CaptureSource } from './core/capture-source.interface';
import { PostgresChangelogSource } from './postgres/postgres-changelog.source';
import { PostgresTriggerSource } from './postgres/postgres-trigger.source';

/** The capture source for a table, by its system's dialect and the table's capture mode. */
export function createCaptureSource(db: LegacyDb, system: SystemConfig, table: TableConfig): CaptureSource {
  if (db instanceof PostgresLegacyDb) {
    switch (table.capture.mode) {
      case 'trigger':
        return new PostgresTriggerSource(db.pool, system, table);
      case 'changelog':
        return new PostgresChangelogSource(db.pool, system, table);
      case 'cdc':
        throw new Error(`${system.name}.${table.schema}.${table.name}: cdc capture needs SQL Server`);
    }
  }
  if (db instanceof MssqlLegacyDb) {
    switch (table.capture.mode) {
      case 'trigger':
        return new MssqlTriggerSource(db, system, table);
      case 'changelog':
        return new MssqlChangelogSource(db, system, table);
      case 'cdc':
        return new MssqlCdcSource(db, system, table);
    }
  }
  throw new Error(`${system.name}: no capture source for dialect ${db.dialect}`);
}
