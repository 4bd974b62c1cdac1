import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { COMPACTED_TOPICS, Topics } from '@sync/contracts';
import { backoffDelay, KafkaConnection, kafkaAccessProblem, sleep, stalledConsumers, SyncProducer, TopicAdmin, type TopicSpec } from '@sync/kafka';
import { errorMessage } from '@sync/errors';
import { LivenessRegistry, MetricsRegistry, ReadinessRegistry } from '@sync/observability';
import type { AppContext } from './app-context';
import { EXIT_KAFKA_ACCESS } from './exit-codes';
import { APP_CONTEXT } from './tokens';

const PING_TIMEOUT_MS = 2500;

/**
 * The app's Kafka link: connects in the background (so the liveness probe answers while the broker
 * is still unreachable), creates the suite's shared topics, and reports readiness and liveness.
 *
 * Shutdown order (docs/architecture.md): stop fetching, finish or abandon the batch in flight, commit what
 * completed, close the producer, close the pools. The first three and the producer happen here, in
 * beforeApplicationShutdown; database pools (LegacyDbRegistry, KeymapDb) close in
 * onApplicationShutdown. Nest 11's close() runs each hook phase for every module before the next
 * phase begins (onModuleDestroy, beforeApplicationShutdown, HTTP server close, onApplicationShutdown:
 * NestApplicationContext.close in @nestjs/core/nest-application-context.js), so no pool can end
 * under a batch. Within one phase the order follows module distance, with global modules such as
 * CoreModule last: that is why consumers stopping in the same phase as the pools came too late.
 */
@Injectable()
export class KafkaCoreService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly connection: KafkaConnection;
  readonly producer: SyncProducer;
  readonly admin: TopicAdmin;
  private readonly stopping = new AbortController();
  private connected: Promise<void> | undefined;
  private readonly startHooks: Array<() => Promise<void>> = [];
  private readonly stopHooks: Array<() => Promise<void>> = [];
  /** The broker's last refusal of the connection (credentials, certificate, ACL), while it lasts. */
  private accessProblem: string | undefined;

  constructor(
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
    @Inject(MetricsRegistry) private readonly metrics: MetricsRegistry,
    @Inject(LivenessRegistry) private readonly liveness: LivenessRegistry,
  ) {
    this.connection = new KafkaConnection(ctx.kafka, ctx.logger, { consumerLagRefreshMs: ctx.env.metrics.consumerLagRefreshMs });
    this.producer = this.connection.producer();
    this.admin = this.connection.admin(ctx.topicPolicy);
  }

  /** Work to run once Kafka is connected (start consumers ...), in registration order. */
  onConnected(start: () => Promise<void>, stop: () => Promise<void>): void {
    this.startHooks.push(start);
    this.stopHooks.unshift(stop);
  }

  /** Topics every app relies on. */
  coreTopics(): TopicSpec[] {
    const shared = [Topics.control, Topics.offsets, Topics.conflicts, Topics.idmapLinks, Topics.dlq(this.ctx.app)];
    return shared.map((topic) => ({ topic, compacted: COMPACTED_TOPICS.includes(topic) }));
  }

  onApplicationBootstrap(): void {
    const up = this.metrics.gauge('sync_kafka_connected', 'Whether the app has connected to Kafka (1) or not yet (0)');
    up.set(0);
    const weaker = this.metrics.gauge('sync_kafka_topic_weaker', 'Existing topic whose setting is weaker than the pipeline asks (1), per topic and setting; never altered automatically', ['topic', 'setting']);
    this.admin.onTopicCheck((found) => {
      weaker.reset();
      for (const w of found) weaker.set({ topic: w.topic, setting: w.setting }, 1);
    });
    this.metrics.consumerLag(() => this.connection.consumerLag());
    this.readiness.register('kafka', async () => {
      if (this.accessProblem !== undefined) return `kafka refused the connection: ${this.accessProblem}`;
      try {
        await this.admin.ping(PING_TIMEOUT_MS);
        return this.producer.isConnected() ? undefined : 'producer not connected';
      } catch (err) {
        const access = kafkaAccessProblem(err);
        return access ? `kafka refused the connection: ${access.message}` : `kafka unreachable: ${errorMessage(err)}`;
      }
    });
    const stallMs = this.ctx.env.liveness.consumerStallMs;
    // In memory only: each runner's last fetch, join or batch work (a paused entity is exempt).
    this.liveness.register('consumers', () => stalledConsumers(this.connection.runners(), stallMs));
    this.connected = this.connectLoop().then(() => {
      up.set(1);
      this.readiness.markStarted();
    });
  }

  private async connectLoop(): Promise<void> {
    // Since when the broker has refused our credentials or certificate without a break.
    let refusedSince: number | undefined;
    for (let attempt = 1; !this.stopping.signal.aborted; attempt++) {
      try {
        await this.admin.connect();
        await this.producer.connect();
        const created = await this.admin.ensureTopics(this.coreTopics());
        if (created.length > 0) this.ctx.logger.info({ topics: created }, 'created topics');
        for (const start of this.startHooks) await start();
        this.ctx.logger.info({ brokers: this.ctx.kafka.brokers }, 'connected to kafka');
        this.accessProblem = undefined;
        return;
      } catch (err) {
        const delay = backoffDelay(attempt, { initialMs: 500, maxMs: 10_000, jitter: 0.2 });
        const access = kafkaAccessProblem(err);
        this.accessProblem = access?.message;
        if (access !== undefined) {
          // Retried for a while (a credential may be created just after the app), then the app
          // exits: a restart picks up rotated secrets, and the crash loop is what operators notice.
          const refusedFor = access.kind === 'authorization' ? 0 : Date.now() - (refusedSince ??= Date.now());
          const exitMs = this.ctx.env.kafka.accessFailureExitMs;
          this.ctx.logger.error({ attempt, kind: access.kind, brokers: this.ctx.kafka.brokers, err: errorMessage(err) }, `kafka refused the connection: ${access.message}`);
          if (access.kind !== 'authorization' && refusedFor >= exitMs) {
            this.ctx.logger.fatal({ kind: access.kind, refusedForMs: refusedFor, exitCode: EXIT_KAFKA_ACCESS }, `giving up: ${access.message}`);
            process.exit(EXIT_KAFKA_ACCESS);
          }
          await sleep(delay, this.stopping.signal);
          continue;
        }
        refusedSince = undefined;
        this.ctx.logger.warn({ attempt, delayMs: delay, err: errorMessage(err) }, 'kafka not reachable yet, retrying');
        await sleep(delay, this.stopping.signal);
      }
    }
  }

  /** Resolves when the first connection succeeded (tests and CLIs wait on it). */
  whenConnected(): Promise<void> {
    return this.connected ?? Promise.resolve();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    // Consumers first (they stop fetching, finish and commit their batch), then the producer they may still use.
    this.ctx.logger.info({ consumers: this.stopHooks.length }, 'stopping consumers; waiting for the batches in flight');
    await Promise.all(this.stopHooks.map((stop) => stop().catch((err: unknown) => this.ctx.logger.error({ err: errorMessage(err) }, 'stop failed'))));
    this.ctx.logger.info({}, 'consumers stopped; closing the producer');
    await this.producer.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }
}
