import type { LegacyDb, LegacyDbOptions } from './legacy-db.interface';
import { MssqlLegacyDb } from './mssql.legacy-db';
import { PostgresLegacyDb } from './postgres.legacy-db';

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
