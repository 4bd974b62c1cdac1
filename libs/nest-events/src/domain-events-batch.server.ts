import { KafkaStatus, Transport, ServerKafka, KafkaContext, type CustomTransportStrategy, type IncomingEvent, type KafkaOptions } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { errorMessage } from '@sync/errors';
import { KafkaConnection, type BatchConsumerRunner, type BatchContext, type ConsumerHooks, type InboundMessage, type KafkaConnectionOptions, type LogSink, type SyncProducer } from '@sync/kafka';
import type { DomainEvent, InvalidDomainEvent } from './domain-event';
import type { DomainEventBatch } from './domain-event-batch';
import { DomainEventDeserializer } from './domain-event.deserializer';

export interface DomainEventsBatchServerOptions {
  /** Brokers, client id, TLS and SASL of the service's Kafka connection. */
  readonly kafka: KafkaConnectionOptions;
  /** Consumer group of the service: one per service, shared by its replicas (used as given). */
  readonly groupId: string;
  /** Dead letters go to `dlq.<app>` (the topic must exist: the producer does not create topics). */
  readonly app: string;
  /** Read a new group's topics from their first event (default true: a new service needs the history). */
  readonly fromBeginning?: boolean;
  /** Partitions handled at the same time (default 2); a batch is one partition, so per-key order holds. */
  readonly partitionsConsumedConcurrently?: number;
  /** Bytes fetched per partition and request (default 1 MiB): the upper bound of a batch. */
  readonly maxBytesPerPartition?: number;
  readonly log: LogSink;
  readonly hooks?: ConsumerHooks;
}

/** ServerKafka's options for these: validated, each problem named. */
function serverKafkaOptions(options: DomainEventsBatchServerOptions): NonNullable<KafkaOptions['options']> {
  if (options.kafka.brokers.length === 0) throw new Error('DomainEventsBatchServer: kafka.brokers is empty');
  if (options.groupId.trim() === '') throw new Error('DomainEventsBatchServer: groupId is empty');
  if (options.app.trim() === '') throw new Error('DomainEventsBatchServer: app is empty (dead letters go to dlq.<app>)');
  const concurrency = options.partitionsConsumedConcurrently;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) throw new Error(`DomainEventsBatchServer: partitionsConsumedConcurrently must be an integer of at least 1, got ${concurrency}`);
  return {
    client: { clientId: options.kafka.clientId, brokers: [...options.kafka.brokers] },
    consumer: { groupId: options.groupId },
    // Values stay bytes: the deserializer decodes the CloudEvent itself.
    parser: { keepBinary: true },
    deserializer: new DomainEventDeserializer(),
    postfixId: '',
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** What Nest's BaseRpcExceptionFilter rethrows in place of an error that is not an RpcException. */
function isNestGenericError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && !(err instanceof Error) && (err as { status?: unknown }).status === 'error';
}

/**
 * @nestjs/microservices' Kafka transport (a ServerKafka: `@EventPattern('<domain topic>')`
 * handlers, its ConsumerDeserializer (DomainEventDeserializer), KafkaContext, guards, interceptors, pipes and
 * RPC exception filters) whose consumer runs kafkajs `eachBatch` instead of `eachMessage`: each
 * handler call receives a DomainEventBatch, one fetch of one topic-partition, so a service can
 * write it with a few set-based statements in one transaction. The consumer is @sync/kafka's
 * BatchConsumerRunner, which gives it the suite's delivery rules:
 * - offsets are committed only after the handler resolved, and only while this member still owns
 *   the partition in the generation the batch was fetched in (rebalance safety);
 * - a handler that throws an EnvironmentError (database down) gets the batch again after a
 *   back-off, for as long as it takes; any other error makes the runner offer the batch's
 *   messages again one at a time (batches of one), dead-lettering (`dlq.<app>`) only the message
 *   that still fails: a DataError at once, an unclassified error after 3 attempts;
 * - a crashed kafkajs consumer is started again.
 * Delivery is at least once: handlers make their effects idempotent by event id.
 *
 * Errors keep their kind only when they reach the server as thrown: Nest's default RPC exception
 * filter replaces them with `{ status: 'error' }` (treated as unclassified here), so put
 * `@UseFilters(DomainEventErrorsFilter)` on the controller.
 */
export class DomainEventsBatchServer extends ServerKafka implements CustomTransportStrategy {
  private readonly connection: KafkaConnection;
  private runner: BatchConsumerRunner | undefined;
  private dlqProducer: SyncProducer | undefined;

  constructor(private readonly batchOptions: DomainEventsBatchServerOptions) {
    super(serverKafkaOptions(batchOptions));
    this.transportId = Transport.KAFKA;
    this.connection = new KafkaConnection(batchOptions.kafka, batchOptions.log);
  }

  /** Subscribes to the topics of the registered `@EventPattern` handlers and starts consuming. */
  override async listen(callback: (err?: unknown, ...optionalParams: unknown[]) => void): Promise<void> {
    try {
      const topics = [...this.messageHandlers.keys()];
      if (topics.length === 0) throw new Error('DomainEventsBatchServer: no @EventPattern handler is registered (each names the domain topic it consumes)');
      this.dlqProducer = this.connection.producer();
      await this.dlqProducer.connect();
      this.runner = this.connection.batchConsumer(this.dlqProducer, {
        app: this.batchOptions.app,
        groupId: this.batchOptions.groupId,
        topics,
        fromBeginning: this.batchOptions.fromBeginning ?? true,
        partitionsConsumedConcurrently: this.batchOptions.partitionsConsumedConcurrently ?? 2,
        ...(this.batchOptions.maxBytesPerPartition !== undefined && { maxBytesPerPartition: this.batchOptions.maxBytesPerPartition }),
        ...(this.batchOptions.hooks !== undefined && { hooks: this.batchOptions.hooks }),
        log: this.batchOptions.log,
        handler: (messages, ctx) => this.handleBatch(messages, ctx),
      });
      await this.runner.start();
      this.batchOptions.log.info({ groupId: this.batchOptions.groupId, topics }, 'DomainEventsBatchServer: @EventPattern handlers subscribed (eachBatch)');
      this._status$.next(KafkaStatus.CONNECTED);
      callback();
    } catch (err) {
      callback(err);
    }
  }

  /** Lets the batch in hand finish and commit, then leaves the group. */
  override async close(): Promise<void> {
    await this.runner?.stop();
    await this.dlqProducer?.disconnect();
    this.runner = undefined;
    this.dlqProducer = undefined;
    this._status$.next(KafkaStatus.STOPPED);
  }

  /** The kafkajs consumer is the BatchConsumerRunner's own; Nest's client, consumer and producer stay unused. */
  override unwrap<T>(): T {
    throw new Error('DomainEventsBatchServer: the consumer is @sync/kafka\'s BatchConsumerRunner, it has no kafkajs client to unwrap');
  }

  private async handleBatch(messages: readonly InboundMessage[], ctx: BatchContext): Promise<void> {
    const handler = this.getHandlerByPattern(ctx.topic);
    // Only the handlers' topics are subscribed: a missing handler is a bug, never a message to skip.
    if (handler === null) throw new Error(`DomainEventsBatchServer: no @EventPattern handler for ${ctx.topic}`);
    const events: Array<DomainEvent<unknown> | InvalidDomainEvent> = [];
    for (const m of messages) {
      // The runner's message is already what KafkaParser would make of it with keepBinary (string headers, bytes kept),
      // and the deserializer answers synchronously: no copy, no await per message (a few µs each on a backlog).
      const result: unknown = this.deserializer.deserialize(m, { channel: ctx.topic });
      const packet = (isPromiseLike(result) ? await result : result) as IncomingEvent;
      events.push(packet.data as DomainEvent<unknown> | InvalidDomainEvent);
    }
    const batch: DomainEventBatch<unknown> = { topic: ctx.topic, partition: ctx.partition, events, heartbeat: () => ctx.heartbeat() };
    const first = messages[0]!;
    // Context of the batch: its first message, the partition and topic, the heartbeat; no kafkajs consumer or producer.
    const context = new KafkaContext([
      { key: first.key, value: first.value, headers: first.headers, offset: first.offset, timestamp: first.timestamp, attributes: 0 },
      ctx.partition,
      ctx.topic,
      undefined as never,
      () => ctx.heartbeat(),
      undefined as never,
    ]);
    try {
      await this.onProcessingStartHook(this.transportId!, context, async () => {
        const result: unknown = await handler(batch, context);
        if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
        this.onProcessingEndHook?.(this.transportId!, context);
      });
    } catch (err) {
      if (isNestGenericError(err)) {
        throw new Error(`@EventPattern(${ctx.topic}) handler failed; Nest's RPC exception filter hid the error (use @UseFilters(DomainEventErrorsFilter)): ${errorMessage((err as { message?: unknown }).message)}`);
      }
      throw err;
    }
  }
}
