import type { LegacyDb, LegacyDbOptions } from './core/legacy-db.interface';
import { MssqlLegacyDb } from './mssql/mssql.legacy-db';
import { PostgresLegacyDb } from './postgres/postgres.legacy-db';

export function createLegacyDb(options: LegacyDbOptions, onError: (err: Error) => void): LegacyDb {
  switch (options.dialect) {
    case 'postgres':
      return new PostgresLegacyDb(options, onError);
    case 'mssql':
      return new MssqlLegacyDb(options, onError);
    default: {
      const never: never = options.dialect;
      throw new Error(`unsupported dialect ${String(never)}`);
    }
  }
}
