import type { TableConfig } from '@sync/config';
import { parseWritebackCommand, Topics, type WritebackCommand } from '@sync/contracts';
import {
  backoffDelay,
  errorMessage,
  PoisonError,
  sleep,
  TransientError,
  type BatchConsumerRunner,
  type BatchContext,
  type InboundMessage,
  type KafkaConnection,
  type LogSink,
  type SyncProducer,
} from '@sync/kafka';
import { SinkError, type SinkResult, type WritebackSink } from '@sync/legacy-db';
import type { WritebackMetrics } from './writeback-metrics';
import { resultRecords } from './writeback-records';

export interface WritebackConsumerOptions {
  readonly app: string;
  readonly groupId: string;
  readonly log: LogSink;
  readonly metrics: WritebackMetrics;
  /** Attempts of a command failing on a foreign key before it is parked (default 3). */
  readonly foreignKeyAttempts?: number;
  readonly foreignKeyBackoffMs?: number;
  readonly partitionsConsumedConcurrently?: number;
}

interface Target {
  readonly table: TableConfig;
  readonly sink: WritebackSink;
}

function tableRef(t: TableConfig): string {
  return `${t.system}.${t.schema}.${t.name}`;
}

/**
 * Consumes resolved.* for the configured tables and applies each batch through the sink of the
 * table's system. The runner commits offsets after the handler returns, so results (generated
 * keys, conflicts) are published before the commit; failures are thrown with their kind:
 * transient (retry forever, readiness red), poison (dead-letter at once), other (isolate).
 */
export class WritebackConsumer {
  private runner: BatchConsumerRunner | undefined;
  private readonly targets = new Map<string, Target>();

  constructor(
    private readonly connection: KafkaConnection,
    private readonly producer: SyncProducer,
    targets: ReadonlyArray<Target>,
    private readonly options: WritebackConsumerOptions,
  ) {
    for (const t of targets) this.targets.set(Topics.resolved({ system: t.table.system, schema: t.table.schema, table: t.table.name }), t);
  }

  topics(): string[] {
    return [...this.targets.keys()];
  }

  async start(): Promise<void> {
    if (this.runner || this.targets.size === 0) return;
    const metrics = this.options.metrics;
    this.runner = this.connection.batchConsumer(this.producer, {
      app: this.options.app,
      groupId: this.options.groupId,
      topics: this.topics(),
      handler: (messages, ctx) => this.handle(messages, ctx),
      transientMaxDelayMs: 5_000,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
      log: this.options.log,
      hooks: {
        onDeadLetter: (_message, kind) => metrics.deadLetters.inc({ kind }),
        onTransientState: (err) =>
          err === undefined
            ? this.options.log.info({}, 'write-back recovered')
            : this.options.log.warn({ err: errorMessage(err) }, 'write-back failing transiently; readiness is red until it recovers'),
      },
    });
    await this.runner.start();
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
  }

  /** The resolved.* topic of an entity (`system.schema.table`), if this app writes it. */
  topicOf(entity: string): string | undefined {
    return [...this.targets].find(([, t]) => tableRef(t.table) === entity)?.[0];
  }

  /**
   * Holds back (or lets through again) the commands of some topics: their offsets stay where they
   * are, so on resume everything held back is applied, in order.
   */
  hold(topics: readonly string[], held: boolean): void {
    if (!this.runner) return;
    if (held) this.runner.pauseTopics(topics);
    else this.runner.resumeTopics(topics);
  }

  problem(): string | undefined {
    if (this.targets.size === 0) return undefined;
    return this.runner ? this.runner.problem() : 'write-back consumer not started yet';
  }

  /** One topic-partition batch = one table: parse, apply in one transaction, publish results. */
  async handle(messages: readonly InboundMessage[], ctx: BatchContext): Promise<void> {
    const target = this.targets.get(ctx.topic);
    if (!target) throw new PoisonError(`no configured table for topic ${ctx.topic}`);
    const { table } = target;
    const ref = tableRef(table);
    const started = process.hrtime.bigint();
    const commands = messages.map((m) => this.parse(m, table));
    const results = await this.apply(target, commands, ctx);
    if (results === 'parked') return;
    for (const [i, r] of results.entries()) {
      const c = commands[i]!;
      if (r.outcome === 'duplicate') this.options.metrics.inboxHits.inc({ table: ref });
      else if (r.outcome === 'applied') this.options.metrics.rowsApplied.inc({ table: ref, op: Object.keys(c.key).length === 0 ? 'insert' : c.op });
      if (r.conflict && r.outcome !== 'duplicate') this.options.metrics.conflicts.inc({ table: ref, policy: r.conflict.policy, resolution: r.conflict.resolution });
    }
    const records = resultRecords(commands, results);
    if (records.length > 0) {
      try {
        await this.producer.send(records);
      } catch (err) {
        // Already committed in the database: the retry finds the commands in the inbox and publishes again.
        throw new TransientError(`publishing results failed: ${errorMessage(err)}`, { cause: err });
      }
    }
    this.options.metrics.batchSeconds.observe({ table: ref }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  private parse(message: InboundMessage, table: TableConfig): WritebackCommand {
    if (message.value === null) throw new PoisonError('empty message value');
    let raw: unknown;
    try {
      raw = JSON.parse(message.value.toString());
    } catch (err) {
      throw new PoisonError(`value is not JSON: ${errorMessage(err)}`);
    }
    const c = parseWritebackCommand(raw);
    if (c.system !== table.system || c.schema !== table.schema || c.table !== table.name) {
      throw new PoisonError(`command ${c.commandId} names ${c.system}.${c.schema}.${c.table} but arrived on the topic of ${tableRef(table)}`);
    }
    return c;
  }

  private async apply(target: Target, commands: readonly WritebackCommand[], ctx: BatchContext): Promise<SinkResult[] | 'parked'> {
    const ref = tableRef(target.table);
    const attempts = this.options.foreignKeyAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        return await target.sink.applyBatch(target.table, commands);
      } catch (err) {
        if (!(err instanceof SinkError)) throw err;
        this.options.metrics.failures.inc({ table: ref, kind: err.kind });
        switch (err.kind) {
          case 'transient':
            throw new TransientError(`legacy database ${target.sink.system}: ${err.message}`, { cause: err });
          case 'poison':
            throw new PoisonError(`legacy database ${target.sink.system} rejected the command: ${err.message}`, { cause: err });
          case 'foreign-key':
            // In a batch the runner retries message by message, so only the command at fault is retried and parked.
            if (commands.length > 1) throw new Error(`foreign-key violation in batch, isolating: ${err.message}`, { cause: err });
            if (attempt < attempts) {
              await sleep(backoffDelay(attempt, { initialMs: this.options.foreignKeyBackoffMs ?? 1_000, maxMs: 30_000, jitter: 0.2 }), ctx.signal);
              if (ctx.signal.aborted) throw new TransientError('stopping');
              continue;
            }
            await this.park(target, commands[0]!, err.message);
            return 'parked';
          default: {
            const never: never = err.kind;
            throw new Error(`unknown sink error kind ${String(never)}`);
          }
        }
      }
    }
  }

  private async park(target: Target, command: WritebackCommand, reason: string): Promise<void> {
    try {
      await target.sink.park(target.table, command, reason);
    } catch (err) {
      if (err instanceof SinkError && err.kind !== 'transient') throw new PoisonError(`parking failed: ${err.message}`, { cause: err });
      throw new TransientError(`parking failed: ${errorMessage(err)}`, { cause: err });
    }
    this.options.metrics.parked.inc({ table: tableRef(target.table) });
    this.options.log.warn({ table: tableRef(target.table), commandId: command.commandId, reason }, 'command parked after repeated foreign-key violations');
  }
}
