import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_NAMES } from '@sync/config';
import { COMPACTED_TOPICS, parseJsonValue, topicPolicy, Topics } from '@sync/contracts';
import { ControlState, parseControlMessage, parseStatusRecord, type VerifySummary } from '@sync/control';
import { errorMessage } from '@sync/errors';
import { backoffDelay, DLQ_HEADERS, KafkaConnection, sleep, type BackoffOptions, type BatchConsumerRunner, type InboundMessage, type SyncProducer, type TopicAdmin } from '@sync/kafka';
import { ReadinessRegistry } from '@sync/observability';
import { CONSOLE_CONTEXT, type ConsoleContext } from './console-context';
import { entityTopics } from './status-report';

interface DeadLetterRef {
  readonly offset: bigint;
  readonly entity: string;
  readonly reason: string;
}

const START_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, jitter: 0.2 };
const DLQ_TOPICS = APP_NAMES.map((app) => Topics.dlq(app));

/**
 * Follows, with a group of its own from the start, the topics that hold per-entity state: the
 * switches (sync.control), capture positions (sync.offsets), the last verify (sync.status) and the
 * dead letters (dlq.*). Read-only: it never commits anything the apps rely on, never writes.
 */
@Injectable()
export class ConsoleFollower implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly connection: KafkaConnection;
  readonly admin: TopicAdmin;
  readonly control = new ControlState();
  readonly phases = new Map<string, string>();
  readonly verify = new Map<string, VerifySummary>();
  private readonly producer: SyncProducer;
  private readonly letters = new Map<string, DeadLetterRef[]>();
  private readonly topicEntity: Map<string, string>;
  /** Partition → offset to reach before the view counts as caught up (ends when following began). */
  private readonly pending = new Map<string, bigint>();
  private started = false;
  private runner: BatchConsumerRunner | undefined;
  private readonly stopping = new AbortController();

  constructor(
    @Inject(CONSOLE_CONTEXT) private readonly ctx: ConsoleContext,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
  ) {
    this.connection = new KafkaConnection(ctx.kafka, ctx.logger);
    this.producer = this.connection.producer();
    this.admin = this.connection.admin(topicPolicy(ctx.pipeline.kafka.topics));
    this.topicEntity = entityTopics(ctx.pipeline);
  }

  onApplicationBootstrap(): void {
    this.readiness.register('kafka', () => (this.runner ? this.runner.problem() : 'not following Kafka yet'));
    // In the background: the page and the probes answer while the broker is still unreachable.
    void this.startWithRetries();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.runner?.stop();
    await this.admin.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
  }

  get caughtUp(): boolean {
    return this.started && this.pending.size === 0;
  }

  /** Dead letters still held by their topics (purged ones leave), per entity and `<app>: <kind>`. */
  async deadLetters(): Promise<Map<string, Map<string, number>>> {
    const out = new Map<string, Map<string, number>>();
    for (const topic of DLQ_TOPICS) {
      const lows = new Map((await this.admin.partitionOffsets(topic)).map((p) => [p.partition, BigInt(p.low)]));
      for (const [where, refs] of this.letters) {
        const [t, partition] = where.split('|');
        if (t !== topic) continue;
        const low = lows.get(Number(partition)) ?? 0n;
        for (const ref of refs) {
          if (ref.offset < low) continue;
          const counts = out.get(ref.entity) ?? new Map<string, number>();
          counts.set(ref.reason, (counts.get(ref.reason) ?? 0) + 1);
          out.set(ref.entity, counts);
        }
      }
    }
    return out;
  }

  private async startWithRetries(): Promise<void> {
    for (let attempt = 1; !this.stopping.signal.aborted; attempt++) {
      try {
        await this.start();
        this.readiness.markStarted();
        return;
      } catch (err) {
        const delay = backoffDelay(attempt, START_BACKOFF);
        this.ctx.logger.warn({ err: errorMessage(err), attempt, retryInMs: delay }, 'cannot follow Kafka yet');
        await sleep(delay, this.stopping.signal);
      }
    }
  }

  private async start(): Promise<void> {
    const topics = [Topics.control, Topics.offsets, Topics.status, ...DLQ_TOPICS];
    await this.admin.ensureTopics(topics.map((topic) => ({ topic, compacted: COMPACTED_TOPICS.includes(topic) })));
    for (const topic of topics) {
      for (const p of await this.admin.partitionOffsets(topic)) if (BigInt(p.high) > BigInt(p.low)) this.pending.set(`${topic}|${p.partition}`, BigInt(p.high));
    }
    this.started = true;
    this.runner = this.connection.batchConsumer(this.producer, {
      app: 'console',
      groupId: `console-${randomUUID()}`,
      topics,
      fromBeginning: true,
      handler: async (messages) => {
        for (const m of messages) this.apply(m);
      },
    });
    await this.runner.start();
  }

  /** Never throws: a record it cannot read is logged and skipped (the apps report their own). */
  private apply(m: InboundMessage): void {
    const where = `${m.topic}|${m.partition}`;
    const end = this.pending.get(where);
    if (end !== undefined && BigInt(m.offset) + 1n >= end) this.pending.delete(where);
    try {
      if (m.topic === Topics.control) {
        if (m.value !== null) this.control.apply(parseControlMessage(parseJsonValue(m.value)));
      } else if (m.topic === Topics.offsets) {
        const entity = m.key?.toString() ?? '';
        if (m.value === null) this.phases.delete(entity);
        else this.phases.set(entity, String((JSON.parse(m.value.toString()) as { phase?: unknown }).phase ?? '?'));
      } else if (m.topic === Topics.status) {
        if (m.value !== null) {
          const summary = parseStatusRecord(parseJsonValue(m.value));
          this.verify.set(summary.entity, summary);
        }
      } else {
        const app = m.topic.replace(/^dlq\./, '');
        const entity = this.topicEntity.get(m.headers[DLQ_HEADERS.sourceTopic] ?? '') ?? '';
        const kind = m.headers[DLQ_HEADERS.errorKind] || 'unknown';
        const refs = this.letters.get(where) ?? [];
        refs.push({ offset: BigInt(m.offset), entity, reason: `${app}: ${kind}` });
        this.letters.set(where, refs);
      }
    } catch (err) {
      this.ctx.logger.warn({ topic: m.topic, partition: m.partition, offset: m.offset, err: errorMessage(err) }, 'skipping a record the console cannot read');
    }
  }
}
