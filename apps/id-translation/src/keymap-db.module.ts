import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONTEXT, type AppContext } from '@sync/app-core';
import { errorMessage } from '@sync/kafka';
import { ReadinessRegistry } from '@sync/observability';
import { DataSource } from 'typeorm';

/** The key map's own PostgreSQL database (TypeORM); entities and migrations arrive with the key map. */
@Injectable()
export class KeymapDb implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly dataSource: DataSource;
  private initializing: Promise<unknown> | undefined;

  constructor(
    @Inject(APP_CONTEXT) ctx: AppContext,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
  ) {
    const url = ctx.env.keymap.databaseUrl?.reveal();
    if (!url) throw new Error('KEYMAP_DATABASE_URL is required for id-translation');
    this.dataSource = new DataSource({ type: 'postgres', url, entities: [], migrations: [], extra: { max: 10, connectionTimeoutMillis: 3000 } });
  }

  onApplicationBootstrap(): void {
    this.readiness.register('keymap-db', async () => {
      try {
        await this.ensureInitialized();
        await this.dataSource.query('SELECT 1');
        return undefined;
      } catch (err) {
        return `key map database unreachable: ${errorMessage(err)}`;
      }
    });
  }

  /** Connects on first use and again after a failed attempt, so a late database does not need a restart. */
  private async ensureInitialized(): Promise<void> {
    if (this.dataSource.isInitialized) return;
    this.initializing ??= this.dataSource.initialize().finally(() => (this.initializing = undefined));
    await this.initializing;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Module({})
export class KeymapDbModule {
  static forRoot(_ctx: AppContext): DynamicModule {
    return { module: KeymapDbModule, providers: [KeymapDb], exports: [KeymapDb] };
  }
}
