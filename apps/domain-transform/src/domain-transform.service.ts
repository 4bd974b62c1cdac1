import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONTEXT, KafkaCoreService, type AppContext } from '@sync/app-core';
import type { MappingEngine } from '@sync/mapping';
import { MetricsRegistry, ReadinessRegistry } from '@sync/observability';
import { TransformConsumer } from './transform.consumer';
import { TransformMetrics } from './transform-metrics';
import { MAPPING_ENGINE } from './tokens';

/** Starts the transform consumers once Kafka is connected and reports their readiness. */
@Injectable()
export class DomainTransformService implements OnModuleInit {
  readonly consumer: TransformConsumer;

  constructor(
    @Inject(APP_CONTEXT) ctx: AppContext,
    @Inject(MAPPING_ENGINE) engine: MappingEngine,
    @Inject(KafkaCoreService) private readonly kafka: KafkaCoreService,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
    @Inject(MetricsRegistry) metrics: MetricsRegistry,
  ) {
    this.consumer = new TransformConsumer(engine, kafka.connection, kafka.producer, kafka.admin, {
      app: ctx.app,
      groupPrefix: ctx.pipeline.domainTransform.groupPrefix,
      log: ctx.logger,
      metrics: new TransformMetrics(metrics),
    });
  }

  onModuleInit(): void {
    let started = false;
    this.kafka.onConnected(
      async () => {
        await this.consumer.start();
        started = true;
      },
      () => this.consumer.stop(),
    );
    this.readiness.register('transform-consumers', () => (started ? this.consumer.problem() : 'consumers not started yet'));
  }
}
