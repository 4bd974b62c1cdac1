import { Topics } from '@sync/contracts';
import { type BatchConsumerRunner, type BatchContext, type BatchDeferral, type InboundMessage, type KafkaConnection, type LogSink, type SyncProducer, type TopicAdmin } from '@sync/kafka';
import { errorMessage, EnvironmentError } from '@sync/errors';
import type { KeymapRepository, TableIndex } from '@sync/keymap';
import type { LegacyTranslator } from './legacy.translator';
import { streamLabels, type Stream, type TranslationMetrics } from './translation-metrics';
import type { WritebackTranslator } from './writeback.translator';

/** How soon a partition waiting for a merge-table row looks again. */
const MERGE_WAIT_RETRY_MS = 500;

export interface TranslationConsumerOptions {
  /** Dead letters go to `dlq.<app>`. */
  readonly app: string;
  /** Consumer groups are `<groupPrefix>.legacy`, `.writeback` and `.links`. */
  readonly groupPrefix: string;
  readonly parkTimeoutMs: number;
  readonly log: LogSink;
  readonly metrics: TranslationMetrics;
}

/**
 * Runs the translators on Kafka: one consumer group per direction, subscribed to the explicit topic
 * lists the pipeline implies (kafkajs matches a RegExp only against topics existing at subscribe
 * time), and a timer that dead-letters commands parked too long.
 */
export class TranslationConsumer {
  private readonly runners = new Map<Stream, BatchConsumerRunner>();
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiring: Promise<void> | undefined;

  constructor(
    private readonly index: TableIndex,
    private readonly legacy: LegacyTranslator,
    private readonly writeback: WritebackTranslator,
    private readonly repository: KeymapRepository,
    private readonly connection: KafkaConnection,
    private readonly producer: SyncProducer,
    private readonly admin: TopicAdmin,
    private readonly options: TranslationConsumerOptions,
  ) {}

  inputTopics(): Record<Stream, string[]> {
    const topics = this.index.topics();
    return { legacy: topics.legacy, writeback: topics.writeback, links: [Topics.idmapLinks] };
  }

  async start(): Promise<void> {
    const topics = this.index.topics();
    const all = new Set([...topics.legacy, ...topics.writeback, ...topics.keyed, ...topics.resolved, Topics.idmapLinks, Topics.dlq(this.options.app)]);
    const created = await this.admin.ensureTopics([...all].map((topic) => ({ topic })));
    if (created.length > 0) this.options.log.info({ topics: created }, 'created topics');
    const inputs = this.inputTopics();
    for (const direction of ['links', 'writeback', 'legacy'] as const) {
      if (inputs[direction].length === 0) continue;
      const runner = this.connection.batchConsumer(this.producer, {
        app: this.options.app,
        groupId: `${this.options.groupPrefix}.${direction}`,
        topics: inputs[direction],
        fromBeginning: true,
        handler: (messages, ctx) => this.handle(direction, messages, ctx),
        hooks: { onDeadLetter: (_m, kind) => this.options.metrics.deadLetters.inc({ ...streamLabels(direction), kind }) },
      });
      this.runners.set(direction, runner);
      await runner.start();
      this.options.log.info({ direction, topics: inputs[direction].length }, 'translation consumer started');
    }
    const every = Math.max(200, Math.min(5_000, Math.floor(this.options.parkTimeoutMs / 4)));
    this.expiryTimer = setInterval(() => {
      this.expiring ??= this.expireAndGauge().finally(() => (this.expiring = undefined));
    }, every);
  }

  async stop(): Promise<void> {
    clearInterval(this.expiryTimer);
    // In parallel: each runner finishes and commits its own batch; shutdown time is the slowest one's.
    await Promise.all([...this.runners.values()].map((runner) => runner.stop()));
    await this.expiring;
  }

  /** Why translation is not ready, or undefined. */
  problem(): string | undefined {
    for (const [direction, runner] of this.runners) {
      const problem = runner.problem();
      if (problem !== undefined) return `${direction} consumer: ${problem}`;
    }
    return undefined;
  }

  private async handle(direction: Stream, messages: readonly InboundMessage[], ctx: BatchContext): Promise<void | BatchDeferral> {
    const end = this.options.metrics.batchSeconds.startTimer(streamLabels(direction));
    switch (direction) {
      case 'legacy': {
        const { records, handled } = await this.legacy.translate(messages);
        // A replica that lost the partition (paused past its session timeout) must not append stale events.
        await ctx.confirmOwnership();
        try {
          await this.producer.send(records);
        } catch (err) {
          throw new EnvironmentError(`producing ${records.length} keyed events failed: ${errorMessage(err)}`, { cause: err });
        }
        this.options.metrics.translations.inc(streamLabels(direction), records.length);
        end();
        if (handled < messages.length) {
          // The rest waits for a merge-table row another partition brings; the others go on.
          this.options.metrics.mergeWaits.inc();
          return { handled, retryAfterMs: MERGE_WAIT_RETRY_MS };
        }
        return;
      }
      case 'writeback':
        await this.writeback.handleRequests(messages, () => ctx.confirmOwnership());
        break;
      case 'links':
        await this.writeback.handleLinks(messages, () => ctx.confirmOwnership());
        break;
      default: {
        const never: never = direction;
        throw new Error(`unknown direction ${String(never)}`);
      }
    }
    end();
  }

  private async expireAndGauge(): Promise<void> {
    try {
      await this.writeback.expireParked();
      this.options.metrics.parked.set(await this.repository.parkedCount());
    } catch (err) {
      this.options.log.warn({ err: errorMessage(err) }, 'checking parked commands failed; will retry');
    }
  }
}
