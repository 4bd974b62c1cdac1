import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONTEXT, ControlWatcher, KafkaCoreService, type AppContext } from '@sync/app-core';
import { createInboxRetentionStore, createWritebackSink, LegacyDbRegistry } from '@sync/legacy-db';
import { MetricsRegistry, ReadinessRegistry } from '@sync/observability';
import { InboxPruner } from './inbox-pruner';
import { WritebackConsumer } from './writeback.consumer';
import { WritebackMetrics } from './writeback-metrics';

/** Starts the write-back consumer once Kafka is connected and reports its readiness. */
@Injectable()
export class LegacyWritebackService implements OnModuleInit {
  readonly consumer: WritebackConsumer;
  readonly inboxPruner: InboxPruner;

  constructor(
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
    @Inject(KafkaCoreService) private readonly kafka: KafkaCoreService,
    @Inject(LegacyDbRegistry) dbs: LegacyDbRegistry,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
    @Inject(MetricsRegistry) metrics: MetricsRegistry,
    @Inject(ControlWatcher) private readonly control: ControlWatcher,
  ) {
    const systems = [...ctx.pipeline.systems.values()];
    const targets = systems.flatMap((system) => {
      const sink = createWritebackSink(dbs.get(system.name), system);
      return system.tables.map((table) => ({ table, sink }));
    });
    // One group per set of systems: deployments for different legacy systems do not share offsets.
    const groupId = `${ctx.app}.${systems
      .map((s) => s.name)
      .sort()
      .join('+')}`;
    this.consumer = new WritebackConsumer(kafka.connection, kafka.producer, targets, {
      app: ctx.app,
      groupId,
      log: ctx.logger,
      metrics: new WritebackMetrics(metrics),
      ...ctx.pipeline.legacyWriteback,
    });
    this.inboxPruner = new InboxPruner(
      systems.map((system) => ({ system, store: createInboxRetentionStore(dbs.get(system.name), system) })),
      kafka.admin,
      groupId,
      ctx.pipeline.legacyWriteback,
      metrics,
      ctx.logger,
    );
  }

  onModuleInit(): void {
    let started = false;
    this.kafka.onConnected(
      async () => {
        // kafkajs subscribes to existing topics only: create the resolved.* topics first.
        await this.kafka.admin.ensureTopics(this.consumer.topics().map((topic) => ({ topic })));
        await this.consumer.start();
        // Entities switched off (new→legacy) before the start stay held back.
        const held = this.consumer.topics().filter((topic) => this.heldAtStart(topic));
        this.consumer.hold(held, true);
        started = true;
        this.inboxPruner.start();
        this.ctx.logger.info({ topics: this.consumer.topics() }, 'write-back consuming');
      },
      async () => {
        await this.inboxPruner.stop();
        await this.consumer.stop();
      },
    );
    this.control.onChange((change) => {
      if (change.kind !== 'state' || change.record.direction !== 'new-to-legacy') return;
      const topic = this.consumer.topicOf(change.record.entity);
      if (!topic) return;
      // paused and disabled both hold the entity's commands back; nothing is dropped.
      this.consumer.hold([topic], change.record.state !== 'enabled');
      this.ctx.logger.info({ entity: change.record.entity, state: change.record.state }, 'new→legacy switch applied');
    });
    this.readiness.register('writeback', () => (started ? this.consumer.problem() : 'write-back consumer not started yet'));
    // An entity held by a schema problem (column or table missing) is stale: say which and why.
    this.readiness.register('writeback-held', () => this.consumer.heldProblem());
  }

  private heldAtStart(topic: string): boolean {
    const entity = [...this.ctx.pipeline.systems.values()]
      .flatMap((s) => s.tables.map((t) => `${s.name}.${t.schema}.${t.name}`))
      .find((e) => this.consumer.topicOf(e) === topic);
    return entity !== undefined && this.control.state.stateOf(entity, 'new-to-legacy') !== 'enabled';
  }
}
