import { DataSource } from 'typeorm';
import { KEYMAP_ENTITIES } from './keymap.entities';
import { KeymapInit1732440000000 } from './migrations/1732440000000-keymap-init.migration';

export const KEYMAP_MIGRATIONS = [KeymapInit1732440000000];

// Arbitrary constant naming the migration lock among the key map's advisory locks.
const MIGRATION_LOCK = 7_345_001;

/** The key map's DataSource (not yet connected); `connectKeymap` connects and migrates it. */
export function createKeymapDataSource(url: string, options: { poolSize?: number } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: KEYMAP_ENTITIES,
    migrations: KEYMAP_MIGRATIONS,
    migrationsTableName: 'keymap_migrations',
    // Not TypeORM's migrationsRun: it takes no lock, and replicas starting together would race to
    // create the same tables. connectKeymap runs them under an advisory lock instead.
    migrationsRun: false,
    synchronize: false,
    extra: { max: options.poolSize ?? 10, connectionTimeoutMillis: 3000 },
  });
}

/** Connects and applies pending migrations, one replica at a time. Returns the migrations it ran. */
export async function connectKeymap(dataSource: DataSource): Promise<string[]> {
  if (!dataSource.isInitialized) await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}
