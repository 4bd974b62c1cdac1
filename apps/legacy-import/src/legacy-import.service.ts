import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONTEXT, ControlWatcher, KafkaCoreService, type AppContext } from '@sync/app-core';
import { Topics } from '@sync/contracts';
import { createCaptureSource, LegacyDbRegistry, NOTIFY_CHANNEL, PostgresLegacyDb } from '@sync/legacy-db';
import { MetricsRegistry, ReadinessRegistry } from '@sync/observability';
import { captureMetrics } from './capture.metrics';
import { decodeState, encodeState, entityName, type CaptureState } from './capture-state';
import { TableCaptureRunner } from './table-capture.runner';
import { IMPORT_APP } from './import-dead-letter.builder';

/** Runs one capture loop per configured table, once Kafka is reachable and positions are loaded. */
@Injectable()
export class LegacyImportService implements OnModuleInit {
  private readonly runners = new Map<string, TableCaptureRunner>();

  constructor(
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
    @Inject(KafkaCoreService) private readonly kafka: KafkaCoreService,
    @Inject(LegacyDbRegistry) private readonly dbs: LegacyDbRegistry,
    @Inject(MetricsRegistry) private readonly metrics: MetricsRegistry,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
    @Inject(ControlWatcher) private readonly control: ControlWatcher,
  ) {}

  onModuleInit(): void {
    this.kafka.onConnected(
      () => this.start(),
      () => this.stop(),
    );
    this.control.onChange((change) => {
      if (change.kind === 'resnapshot') this.runners.get(change.request.entity)?.requestResnapshot();
      else if (change.record.direction === 'legacy-to-new') this.runners.get(change.record.entity)?.setControl(change.record.state);
    });
    this.readiness.register('capture', () => {
      const problems = [...this.runners.values()].map((r) => r.problem()).filter((p): p is string => p !== undefined);
      return problems.length > 0 ? problems.join('; ') : undefined;
    });
  }

  private async start(): Promise<void> {
    if (this.runners.size > 0) return;
    const tables = [...this.ctx.pipeline.systems.values()].flatMap((s) => s.tables);
    await this.kafka.admin.ensureTopics([
      ...tables.map((t) => ({ topic: Topics.legacy({ system: t.system, schema: t.schema, table: t.name }) })),
      { topic: Topics.dlq(IMPORT_APP) },
    ]);
    const saved = await this.loadStates();
    const metrics = captureMetrics(this.metrics);
    const ports = {
      publish: (records: Parameters<KafkaCoreService['producer']['send']>[0]) => this.kafka.producer.send(records),
      saveState: (entity: string, state: CaptureState) =>
        this.kafka.producer.send([{ topic: Topics.offsets, key: entity, value: encodeState(state) }]),
    };
    for (const system of this.ctx.pipeline.systems.values()) {
      const db = this.dbs.get(system.name);
      for (const table of system.tables) {
        const entity = entityName(table);
        const runner = new TableCaptureRunner(table, createCaptureSource(db, system, table), ports, metrics, this.ctx.logger, saved.get(entity), {
          maxMessageBytes: this.ctx.env.kafka.maxMessageBytes,
        });
        const state = this.control.state.stateOf(entity, 'legacy-to-new');
        if (state !== 'enabled') runner.setControl(state);
        this.runners.set(entity, runner);
      }
      if (db instanceof PostgresLegacyDb) {
        db.listen(NOTIFY_CHANNEL, (payload) => this.runners.get(`${system.name}.${payload}`)?.wake());
      }
    }
    for (const runner of this.runners.values()) runner.start();
    this.ctx.logger.info({ entities: [...this.runners.keys()] }, 'capture started');
  }

  private async loadStates(): Promise<Map<string, CaptureState>> {
    const records = await this.kafka.connection.readCompacted(Topics.offsets);
    const states = new Map<string, CaptureState>();
    for (const [entity, message] of records) {
      const state = message.value ? decodeState(message.value.toString()) : undefined;
      if (state) states.set(entity, state);
      else this.ctx.logger.warn({ entity }, 'ignoring an unreadable record in sync.offsets');
    }
    return states;
  }

  private async stop(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
  }

  /** Asks every importer (through sync.control) to re-snapshot one entity; false when it is not configured. */
  async resnapshot(entity: string, by: string, reason: string): Promise<boolean> {
    if (!this.runners.has(entity)) return false;
    await this.control.publish({ entity, action: 'resnapshot', by, reason, at: new Date().toISOString() });
    return true;
  }

  entities(): Array<{ entity: string; sync: string; state: CaptureState | undefined; problem: string | undefined }> {
    return [...this.runners.values()].map((r) => ({ entity: r.entity, sync: r.controlState(), state: r.currentState(), problem: r.problem() }));
  }
}
