import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { resolveLegacyDbOptions, type PipelineConfig } from '@sync/config';
import { MetricsRegistry, ReadinessRegistry, type AppLogger } from '@sync/observability';
import { createLegacyDb } from './dialects';
import type { LegacyDb } from './core/legacy-db.interface';

export const LEGACY_DB_SETUP = Symbol('LEGACY_DB_SETUP');

interface Setup {
  readonly pipeline: PipelineConfig;
  readonly logger: AppLogger;
}

/** One pool per configured legacy system, each with its own readiness check. */
@Injectable()
export class LegacyDbRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly dbs = new Map<string, LegacyDb>();

  constructor(
    @Inject(LEGACY_DB_SETUP) setup: Setup,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
    @Inject(MetricsRegistry) private readonly metrics: MetricsRegistry,
  ) {
    const errors = this.metrics.counter('sync_legacy_db_pool_errors_total', 'Errors raised by idle legacy database connections', ['system']);
    for (const system of setup.pipeline.systems.values()) {
      const options = resolveLegacyDbOptions(system);
      this.dbs.set(
        system.name,
        createLegacyDb(options, (err) => {
          errors.inc({ system: system.name });
          setup.logger.warn({ system: system.name, err: err.message }, 'legacy database connection error');
        }),
      );
    }
  }

  get(system: string): LegacyDb {
    const db = this.dbs.get(system);
    if (!db) throw new Error(`unknown system "${system}"`);
    return db;
  }

  onApplicationBootstrap(): void {
    for (const db of this.dbs.values()) {
      this.readiness.register(`db:${db.system}`, async () => {
        try {
          await db.ping();
          return undefined;
        } catch (err) {
          return `legacy database "${db.system}" unreachable: ${err instanceof Error ? err.message : String(err)}`;
        }
      });
    }
  }

  // onApplicationShutdown, the last phase of Nest's close(): consumers have stopped and committed in
  // beforeApplicationShutdown (KafkaCoreService) by then, so no batch is still using a pool.
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.dbs.values()].map((db) => db.close().catch(() => undefined)));
  }
}

@Module({})
export class LegacyDbModule {
  static forSystems(pipeline: PipelineConfig, logger: AppLogger): DynamicModule {
    return {
      module: LegacyDbModule,
      providers: [{ provide: LEGACY_DB_SETUP, useValue: { pipeline, logger } }, LegacyDbRegistry],
      exports: [LegacyDbRegistry],
    };
  }
}
