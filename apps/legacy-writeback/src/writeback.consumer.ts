import type { TableConfig } from '@sync/config';
import { parseWritebackCommand, Topics, type WritebackCommand } from '@sync/contracts';
import { backoffDelay, deadLetterRecord, sleep, type BatchConsumerRunner, type BatchContext, type InboundMessage, type KafkaConnection, type LogSink, type SyncProducer } from '@sync/kafka';
import { errorMessage, DataError, EnvironmentError, SchemaError } from '@sync/errors';
import { SinkError, type ParkedCommand, type SinkResult, type WritebackSink } from '@sync/legacy-db';
import { guardedCommand } from './command-clock';
import { parkExpired, ParkedRows, releaseGroups } from './parked-commands';
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
  /** How often parked commands are retried (default 30 s). */
  readonly parkedRetryMs?: number;
  /** A command parked longer than this is dead-lettered (default 24 h). */
  readonly parkTimeoutMs?: number;
  /** How long an entity held by a schema problem waits before its commands are tried again (default 30 s). */
  readonly blockedRetryMs?: number;
  /** Commands whose ce_time is further ahead of this clock are dead-lettered (default 5 min). */
  readonly maxClockSkewMs?: number;
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
 * The error kind the runner acts on, for a sink failure: environment waits and retries, schema
 * holds the entity, data dead-letters the command. A foreign-key failure that reaches here (not
 * parked) is data.
 */
export function syncErrorOf(err: SinkError, context: string): EnvironmentError | SchemaError | DataError {
  const message = `${context}: ${err.message}`;
  switch (err.kind) {
    case 'environment':
      return new EnvironmentError(message, { cause: err });
    case 'schema':
      return new SchemaError(message, { cause: err });
    case 'data':
    case 'foreign-key':
      return new DataError(message, { cause: err });
    default: {
      const never: never = err.kind;
      throw new Error(`unknown sink error kind ${String(never)}`);
    }
  }
}

/** A held entity as the status reports it. */
export interface HeldEntity {
  readonly entity: string;
  readonly partitions: readonly number[];
  readonly reason: string;
  readonly since: string;
}

/**
 * Consumes resolved.* for the configured tables and applies each batch through the sink of the
 * table's system. The runner commits offsets after the handler returns, so results (generated
 * keys, conflicts) are published before the commit; failures are thrown with their kind
 * (syncErrorOf): environment (retry until it passes, readiness red), schema (the entity's partition
 * is held with a status, tried again every blockedRetryMs), data (dead-letter that command).
 */
export class WritebackConsumer {
  private runner: BatchConsumerRunner | undefined;
  private readonly targets = new Map<string, Target>();
  private readonly parkedRows = new ParkedRows();
  private readonly held = new Set<string>();
  private releasing: { readonly stop: AbortController; readonly done: Promise<void> } | undefined;
  /** The last environment failure while processing is failing transiently, for the status. */
  private lastTransient: string | undefined;

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
      ...(this.options.blockedRetryMs !== undefined ? { blockedRetryMs: this.options.blockedRetryMs } : {}),
      log: this.options.log,
      hooks: {
        onDeadLetter: (_message, kind) => metrics.deadLetters.inc({ kind }),
        onRetry: (_topic, kind, _attempt, err) => {
          if (kind === 'environment') this.lastTransient = errorMessage(err);
        },
        onTransientState: (err) => {
          this.lastTransient = err === undefined ? undefined : errorMessage(err);
          if (err === undefined) this.options.log.info({}, 'write-back recovered');
          else this.options.log.warn({ err: errorMessage(err) }, 'write-back failing transiently; readiness is red until it recovers');
        },
        onBlocked: (topic, partition, reason) => this.blockedChanged(topic, partition, reason),
      },
    });
    await this.runner.start();
    const stop = new AbortController();
    this.releasing = { stop, done: this.releaseLoop(stop.signal) };
  }

  async stop(): Promise<void> {
    this.releasing?.stop.abort();
    await this.releasing?.done;
    this.releasing = undefined;
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
    for (const topic of topics) {
      if (held) this.held.add(topic);
      else this.held.delete(topic);
    }
    if (!this.runner) return;
    if (held) this.runner.pauseTopics(topics);
    else this.runner.resumeTopics(topics);
  }

  /** Why the write-back is not healthy (with the last database error while failing transiently), or undefined. */
  problem(): string | undefined {
    if (this.targets.size === 0) return undefined;
    if (!this.runner) return 'write-back consumer not started yet';
    const problem = this.runner.problem();
    return problem !== undefined && this.lastTransient !== undefined ? `${problem}; last error: ${this.lastTransient}` : problem;
  }

  /** Entities whose partitions are held by a schema problem, with the reason (empty when none). */
  heldEntities(): HeldEntity[] {
    const byTopic = new Map<string, HeldEntity>();
    for (const b of this.runner?.blockedPartitions() ?? []) {
      const target = this.targets.get(b.topic);
      const current = byTopic.get(b.topic);
      byTopic.set(b.topic, {
        entity: target ? tableRef(target.table) : b.topic,
        partitions: [...(current?.partitions ?? []), b.partition].sort((x, y) => x - y),
        reason: current?.reason ?? b.reason,
        since: new Date(Math.min(b.since, current ? Date.parse(current.since) : b.since)).toISOString(),
      });
    }
    return [...byTopic.values()];
  }

  /** The held entities as one sentence for readiness, or undefined when none is held. */
  heldProblem(): string | undefined {
    const held = this.heldEntities();
    if (held.length === 0) return undefined;
    return held
      .map((h) => `entity ${h.entity} held since ${h.since} (partitions ${h.partitions.join(', ')}; retried every ${Math.round((this.options.blockedRetryMs ?? 30_000) / 1000)} s): ${h.reason}`)
      .join('; ');
  }

  private blockedChanged(topic: string, partition: number, reason: string | undefined): void {
    const target = this.targets.get(topic);
    const entity = target ? tableRef(target.table) : topic;
    const held = (this.runner?.blockedPartitions() ?? []).filter((b) => b.topic === topic).length;
    this.options.metrics.entityBlocked.set({ entity }, held);
    if (reason === undefined) this.options.log.info({ entity, partition }, 'entity partition no longer held');
    else this.options.log.warn({ entity, partition, reason }, 'entity partition held: its commands wait until the problem is fixed (nothing dead-lettered)');
  }

  /**
   * One topic-partition batch = one table: parse, apply in one transaction, publish results.
   * Commands for a row that has parked commands are parked behind them, so they cannot overtake.
   */
  async handle(messages: readonly InboundMessage[], ctx: BatchContext): Promise<void> {
    const target = this.targets.get(ctx.topic);
    if (!target) throw new DataError(`no configured table for topic ${ctx.topic}`);
    const started = process.hrtime.bigint();
    const commands = messages.map((m) => this.parse(m, target.table));
    await this.parkedRows.withLock(ctx.topic, async () => {
      const parkedRows = await this.parkedRowsOf(ctx.topic, target);
      const ready = commands.filter((c) => !parkedRows.has(c.globalId));
      for (const c of commands) {
        if (parkedRows.has(c.globalId)) await this.park(target, c, `waiting behind an earlier parked command for the same row (${c.globalId})`, parkedRows);
      }
      if (ready.length === 0) return;
      // The inbox already makes a late write of a revoked batch a no-op; this also spares the database the attempt.
      await ctx.confirmOwnership();
      const results = await this.apply(target, ready, ctx, parkedRows);
      if (results !== 'parked') await this.publish(target, ready, results);
    });
    this.options.metrics.batchSeconds.observe({ entity: tableRef(target.table) }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Metrics and result records (generated keys, conflicts) of applied commands. */
  private async publish(target: Target, commands: readonly WritebackCommand[], results: readonly SinkResult[]): Promise<void> {
    const ref = tableRef(target.table);
    for (const [i, r] of results.entries()) {
      const c = commands[i]!;
      if (r.outcome === 'duplicate') this.options.metrics.inboxHits.inc({ entity: ref });
      else if (r.outcome === 'applied') this.options.metrics.rowsApplied.inc({ entity: ref, op: Object.keys(c.key).length === 0 ? 'insert' : c.op });
      if (r.conflict && r.outcome !== 'duplicate') this.options.metrics.conflicts.inc({ entity: ref, policy: r.conflict.policy, resolution: r.conflict.resolution });
    }
    const records = resultRecords(commands, results);
    if (records.length === 0) return;
    try {
      await this.producer.send(records);
    } catch (err) {
      // Already committed in the database: the retry finds the commands in the inbox and publishes again.
      throw new EnvironmentError(`publishing results failed: ${errorMessage(err)}`, { cause: err });
    }
  }

  private async parkedRowsOf(topic: string, target: Target): Promise<Set<string>> {
    try {
      return await this.parkedRows.of(topic, () => target.sink.parked(target.table));
    } catch (err) {
      const context = `reading the parked commands of ${tableRef(target.table)}`;
      // A parked table that cannot be read is never the fault of the commands in hand.
      if (err instanceof SinkError && err.kind === 'schema') throw syncErrorOf(err, context);
      throw new EnvironmentError(`${context}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** Every `parkedRetryMs`, retries the parked commands of each table that is not held back. */
  private async releaseLoop(signal: AbortSignal): Promise<void> {
    const every = this.options.parkedRetryMs ?? 30_000;
    while (!signal.aborted) {
      await sleep(every, signal);
      for (const [topic, target] of this.targets) {
        if (signal.aborted) return;
        if (this.held.has(topic)) continue;
        try {
          await this.parkedRows.withLock(topic, () => this.releaseTable(topic, target));
        } catch (err) {
          this.options.log.warn({ table: tableRef(target.table), err: errorMessage(err), retryInMs: every }, 'releasing parked commands failed');
        }
      }
    }
  }

  /** Retries a table's parked commands row by row, oldest first; a row stops at its first still-blocked command. */
  private async releaseTable(topic: string, target: Target): Promise<void> {
    const groups = releaseGroups(await target.sink.parked(target.table));
    const stillParked = new Set<string>();
    let waiting = 0;
    for (const group of groups) {
      const blockedAt = await this.releaseGroup(target, group);
      if (blockedAt < group.length) {
        stillParked.add(group[0]!.command.globalId);
        waiting += group.length - blockedAt;
      }
    }
    this.parkedRows.replace(topic, stillParked);
    this.options.metrics.parkedNow.set({ entity: tableRef(target.table) }, waiting);
  }

  /** Releases a row's parked commands in order; returns the index of the first one still blocked. */
  private async releaseGroup(target: Target, group: readonly ParkedCommand[]): Promise<number> {
    for (const [i, p] of group.entries()) {
      if (!(await this.releaseOne(target, p))) return i;
    }
    return group.length;
  }

  /** Applies (or dead-letters) one parked command and removes it from the parked table; false while it stays blocked. */
  private async releaseOne(target: Target, p: ParkedCommand): Promise<boolean> {
    const ref = tableRef(target.table);
    let command: WritebackCommand;
    try {
      command = parseWritebackCommand(p.command);
    } catch (err) {
      await this.deadLetterParked(target, p, 'data', `parked command is not a valid write-back command: ${errorMessage(err)}`);
      return true;
    }
    try {
      await this.publish(target, [command], await target.sink.applyBatch(target.table, [command]));
    } catch (err) {
      // The database is unavailable or refuses us: the whole round stops, everything stays parked.
      if (!(err instanceof SinkError) || err.kind === 'environment') throw err;
      if (err.kind === 'schema') {
        // The table is not as the pipeline says: the command stays parked (never dead-lettered,
        // however long it waited) until the table is fixed; other rows are still tried.
        this.options.log.warn({ table: ref, commandId: p.commandId, err: err.message }, 'parked command still waits: schema problem');
        return false;
      }
      const timeout = this.options.parkTimeoutMs ?? 86_400_000;
      if (err.kind === 'foreign-key' && !parkExpired(p.parkedAt, new Date(), timeout)) return false;
      if (err.kind === 'foreign-key') this.options.metrics.parkExpired.inc({ entity: ref });
      const reason = err.kind === 'foreign-key' ? `parked for more than ${timeout} ms and the foreign-key target is still missing: ${err.message}` : `legacy database ${target.sink.system} rejected the parked command: ${err.message}`;
      await this.deadLetterParked(target, p, 'data', reason);
      return true;
    }
    await target.sink.unpark(target.table, [p.commandId]);
    this.options.metrics.parkedReleased.inc({ entity: ref });
    this.options.log.info({ table: ref, commandId: p.commandId, parkedAt: p.parkedAt.toISOString() }, 'parked command applied');
    return true;
  }

  private async deadLetterParked(target: Target, p: ParkedCommand, kind: 'data', reason: string): Promise<void> {
    // Not read from a partition any more: the dead letter names the resolved.* topic, partition -1.
    const message: InboundMessage = {
      topic: Topics.resolved({ system: target.table.system, schema: target.table.schema, table: target.table.name }),
      partition: -1,
      offset: '-1',
      key: Buffer.from(p.command.globalId),
      value: Buffer.from(JSON.stringify(p.command)),
      headers: {},
      timestamp: String(p.parkedAt.getTime()),
    };
    await this.producer.send([deadLetterRecord(this.options.app, message, kind, new Error(reason), 1, new Date())]);
    await target.sink.unpark(target.table, [p.commandId]);
    this.options.metrics.deadLetters.inc({ kind });
    this.options.log.warn({ table: tableRef(target.table), commandId: p.commandId, reason }, 'parked command dead-lettered');
  }

  private parse(message: InboundMessage, table: TableConfig): WritebackCommand {
    if (message.value === null) throw new DataError('empty message value');
    let raw: unknown;
    try {
      raw = JSON.parse(message.value.toString());
    } catch (err) {
      throw new DataError(`value is not JSON: ${errorMessage(err)}`);
    }
    const c = parseWritebackCommand(raw);
    if (c.system !== table.system || c.schema !== table.schema || c.table !== table.name) {
      throw new DataError(`command ${c.commandId} names ${c.system}.${c.schema}.${c.table} but arrived on the topic of ${tableRef(table)}`);
    }
    return guardedCommand(c, Number(message.timestamp), Date.now(), this.options.maxClockSkewMs ?? 300_000);
  }

  private async apply(target: Target, commands: readonly WritebackCommand[], ctx: BatchContext, parkedRows: Set<string>): Promise<SinkResult[] | 'parked'> {
    const ref = tableRef(target.table);
    const attempts = this.options.foreignKeyAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        return await target.sink.applyBatch(target.table, commands);
      } catch (err) {
        if (!(err instanceof SinkError)) throw err;
        this.options.metrics.failures.inc({ entity: ref, kind: err.kind });
        switch (err.kind) {
          case 'environment':
          case 'schema':
            throw syncErrorOf(err, `legacy database ${target.sink.system}`);
          case 'data':
            throw syncErrorOf(err, `legacy database ${target.sink.system} rejected the command`);
          case 'foreign-key':
            // In a batch the runner retries message by message, so only the command at fault is retried and parked.
            if (commands.length > 1) throw new Error(`foreign-key violation in batch, isolating: ${err.message}`, { cause: err });
            if (attempt < attempts) {
              await sleep(backoffDelay(attempt, { initialMs: this.options.foreignKeyBackoffMs ?? 1_000, maxMs: 30_000, jitter: 0.2 }), ctx.signal);
              if (ctx.signal.aborted) throw new EnvironmentError('stopping');
              continue;
            }
            await this.park(target, commands[0]!, err.message, parkedRows);
            return 'parked';
          default: {
            const never: never = err.kind;
            throw new Error(`unknown sink error kind ${String(never)}`);
          }
        }
      }
    }
  }

  private async park(target: Target, command: WritebackCommand, reason: string, parkedRows: Set<string>): Promise<void> {
    try {
      await target.sink.park(target.table, command, reason);
    } catch (err) {
      if (err instanceof SinkError) throw syncErrorOf(err, 'parking failed');
      throw new EnvironmentError(`parking failed: ${errorMessage(err)}`, { cause: err });
    }
    parkedRows.add(command.globalId);
    this.options.metrics.parked.inc({ entity: tableRef(target.table) });
    this.options.log.warn({ table: tableRef(target.table), commandId: command.commandId, reason }, 'command parked');
  }
}
