import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONTEXT, type AppContext } from '@sync/app-core';
import { errorMessage } from '@sync/errors';
import { ReadinessRegistry } from '@sync/observability';
import type { DataSource } from 'typeorm';
import { connectKeymap, createKeymapDataSource } from '@sync/keymap';

/** The key map's own PostgreSQL database (TypeORM): entities, and migrations run when it connects. */
@Injectable()
export class KeymapDb implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly dataSource: DataSource;
  private initializing: Promise<unknown> | undefined;
  private migrated = false;

  constructor(
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
  ) {
    const url = ctx.env.keymap.databaseUrl?.reveal();
    if (!url) throw new Error('KEYMAP_DATABASE_URL is required for id-translation');
    this.dataSource = createKeymapDataSource(url);
  }

  private get logger(): AppContext['logger'] {
    return this.ctx.logger;
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

  /** Connects and migrates on first use, and again after a failed attempt, so a late database does not need a restart. */
  async ensureInitialized(): Promise<void> {
    if (this.migrated) return;
    this.initializing ??= connectKeymap(this.dataSource)
      .then((ran) => {
        this.migrated = true;
        if (ran.length > 0) this.logger.info({ migrations: ran }, 'key map migrated');
      })
      .finally(() => (this.initializing = undefined));
    await this.initializing;
  }

  // After the consumers stopped (KafkaCoreService.beforeApplicationShutdown): see its shutdown order.
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
