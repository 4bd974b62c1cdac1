import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONTEXT, KafkaCoreService, type AppContext } from '@sync/app-core';
import { KeymapRepository, TableIndex } from '@sync/keymap';
import { MetricsRegistry, ReadinessRegistry } from '@sync/observability';
import { KeymapDb } from './keymap-db.module';
import { LegacyTranslator } from './legacy.translator';
import { TranslationConsumer } from './translation.consumer';
import { TranslationMetrics } from './translation-metrics';
import { WritebackTranslator } from './writeback.translator';

/** Starts the translation consumers once Kafka is connected and the key map migrated; reports readiness. */
@Injectable()
export class IdTranslationService implements OnModuleInit {
  readonly consumer: TranslationConsumer;

  constructor(
    @Inject(APP_CONTEXT) ctx: AppContext,
    @Inject(KafkaCoreService) private readonly kafka: KafkaCoreService,
    @Inject(KeymapDb) private readonly db: KeymapDb,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
    @Inject(MetricsRegistry) metricsRegistry: MetricsRegistry,
  ) {
    const settings = ctx.pipeline.idTranslation;
    const index = new TableIndex(ctx.pipeline);
    const metrics = new TranslationMetrics(metricsRegistry);
    const repository = new KeymapRepository(db.dataSource);
    const legacy = new LegacyTranslator(index, repository, settings.cacheSize, metrics, { mergeWaitMs: settings.mergeWaitMs, rekeyWaitMs: settings.rekeyWaitMs, log: ctx.logger });
    const writeback = new WritebackTranslator(index, repository, (records) => kafka.producer.send(records), {
      app: ctx.app,
      parkTimeoutMs: settings.parkTimeoutMs,
      cacheSize: settings.cacheSize,
      log: ctx.logger,
      metrics,
    });
    this.consumer = new TranslationConsumer(index, legacy, writeback, repository, kafka.connection, kafka.producer, kafka.admin, {
      app: ctx.app,
      groupPrefix: settings.groupPrefix,
      parkTimeoutMs: settings.parkTimeoutMs,
      log: ctx.logger,
      metrics,
    });
  }

  onModuleInit(): void {
    let started = false;
    this.kafka.onConnected(
      async () => {
        // The start hook is retried with back-off by KafkaCoreService until the database answers too.
        await this.db.ensureInitialized();
        await this.consumer.start();
        started = true;
      },
      () => this.consumer.stop(),
    );
    this.readiness.register('translation-consumers', () => (started ? this.consumer.problem() : 'consumers not started yet'));
  }
}
