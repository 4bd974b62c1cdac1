import { type BatchConsumerRunner, type BatchContext, type InboundMessage, type KafkaConnection, type LogSink, type SyncProducer, type TopicAdmin } from '@sync/kafka';
import { errorKind, errorMessage, EnvironmentError } from '@sync/errors';
import type { MappingEngine, TransformOutput } from '@sync/mapping';
import type { Direction, TransformMetrics } from './transform-metrics';


export interface TransformConsumerOptions {
  /** Dead letters go to `dlq.<app>`. */
  readonly app: string;
  /** Consumer groups are `<groupPrefix>.forward` and `<groupPrefix>.reverse`. */
  readonly groupPrefix: string;
  readonly log: LogSink;
  readonly metrics: TransformMetrics;
}

/**
 * Runs the mapping engine on Kafka: keyed.* (forward and replication) and domain.* (reverse), each
 * with its own consumer group. Subscribes to the explicit topic list derived from the mappings, not
 * a pattern: kafkajs matches a RegExp only against topics existing at subscribe time.
 */
/**
 * Consumer-group suffix per direction: the names earlier versions used (`.forward`, `.reverse`),
 * kept so that committed offsets survive the upgrade to the one direction vocabulary.
 */
const GROUP_SUFFIX: Readonly<Record<Direction, string>> = { 'legacy-to-new': 'forward', 'new-to-legacy': 'reverse' };

export class TransformConsumer {
  private readonly runners = new Map<Direction, BatchConsumerRunner>();

  constructor(
    private readonly engine: MappingEngine,
    private readonly connection: KafkaConnection,
    private readonly producer: SyncProducer,
    private readonly admin: TopicAdmin,
    private readonly options: TransformConsumerOptions,
  ) {}

  /** Topics per direction; an empty list means that direction has no rules and does not run. */
  inputTopics(): Record<Direction, string[]> {
    return { 'legacy-to-new': this.engine.keyedTopics(), 'new-to-legacy': this.engine.domainInputTopics() };
  }

  async start(): Promise<void> {
    const inputs = this.inputTopics();
    const all = new Set([...inputs['legacy-to-new'], ...inputs['new-to-legacy'], ...this.engine.outputTopics(), `dlq.${this.options.app}`]);
    const created = await this.admin.ensureTopics([...all].map((topic) => ({ topic })));
    if (created.length > 0) this.options.log.info({ topics: created }, 'created topics');
    for (const direction of ['legacy-to-new', 'new-to-legacy'] as const) {
      if (inputs[direction].length === 0) continue;
      const runner = this.connection.batchConsumer(this.producer, {
        app: this.options.app,
        groupId: `${this.options.groupPrefix}.${GROUP_SUFFIX[direction]}`,
        topics: inputs[direction],
        fromBeginning: true,
        handler: (messages, ctx) => this.handle(direction, messages, ctx),
        hooks: {
          onDeadLetter: (_message, kind, err) => {
            this.options.metrics.deadLetters.inc({ direction, kind });
            if (errorKind(err) === 'data') this.options.metrics.mappingErrors.inc({ direction });
          },
        },
      });
      this.runners.set(direction, runner);
      await runner.start();
      this.options.log.info({ direction, topics: inputs[direction] }, 'transform consumer started');
    }
  }

  async stop(): Promise<void> {
    // In parallel: each runner finishes and commits its own batch; shutdown time is the slowest one's.
    await Promise.all([...this.runners.values()].map((runner) => runner.stop()));
  }

  /** Why the transform is not ready, or undefined. */
  problem(): string | undefined {
    for (const [direction, runner] of this.runners) {
      const problem = runner.problem();
      if (problem !== undefined) return `${direction} consumer: ${problem}`;
    }
    return undefined;
  }

  /**
   * Maps a whole batch, then produces every output in one send: per-key order holds because the
   * outputs keep the input order and are keyed by global id. A message that cannot be mapped fails
   * the batch; the runner then replays it message by message and dead-letters the bad one.
   */
  private async handle(direction: Direction, messages: readonly InboundMessage[], ctx: BatchContext): Promise<void> {
    const end = this.options.metrics.batchSeconds.startTimer({ direction });
    // Outputs are produced as they are (no copy per record); counters are added up per batch, not
    // incremented per message (a label lookup each).
    const records: TransformOutput[] = [];
    const skipped = new Map<string, { rule: string; reason: string; count: number }>();
    for (const message of messages) {
      const result = await this.engine.transform(message);
      for (const out of result.outputs) records.push(out);
      for (const skip of result.skipped) {
        const id = `${skip.rule}\u0000${skip.reason}`;
        const seen = skipped.get(id);
        if (seen) seen.count++;
        else skipped.set(id, { rule: skip.rule, reason: skip.reason, count: 1 });
      }
    }
    // A replica that lost the partition (paused past its session timeout) must not append stale outputs.
    await ctx.confirmOwnership();
    try {
      await this.producer.send(records);
    } catch (err) {
      // Nothing is committed until the outputs are acknowledged; the broker being away is no reason
      // to dead-letter a good message.
      throw new EnvironmentError(`producing ${records.length} transform outputs failed: ${errorMessage(err)}`, { cause: err });
    }
    const metrics = this.options.metrics;
    // A batch is one topic-partition's, but count per topic all the same (a handler may be handed any list).
    const inByTopic = countBy(messages, (m) => m.topic);
    for (const [topic, count] of inByTopic) metrics.messagesIn.inc({ direction, topic }, count);
    for (const [rule, count] of countBy(records, (o) => o.rule)) metrics.outputs.inc({ direction, rule }, count);
    for (const { rule, reason, count } of skipped.values()) metrics.skipped.inc({ direction, rule, reason }, count);
    end();
  }
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}
