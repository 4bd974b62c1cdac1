import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Topics, parseJsonValue } from '@sync/contracts';
import { controlKey, ControlState, initialStates, parseControlMessage, type ControlChange, type ControlMessage } from '@sync/control';
import { type BatchConsumerRunner } from '@sync/kafka';
import { errorMessage } from '@sync/errors';
import { ReadinessRegistry } from '@sync/observability';
import type { AppContext } from './app-context';
import { KafkaCoreService } from './kafka-core.service';
import { APP_CONTEXT } from './tokens';

/**
 * Every app's view of the per-entity switches on `sync.control`: loaded before the app's own work
 * starts (so a paused entity never flows at start-up), then followed live; listeners hear each change.
 */
@Injectable()
export class ControlWatcher implements OnModuleInit {
  readonly state: ControlState;
  private readonly listeners: Array<(change: ControlChange) => void> = [];
  private runner: BatchConsumerRunner | undefined;

  constructor(
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
    @Inject(KafkaCoreService) private readonly kafka: KafkaCoreService,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
  ) {
    // Entities declared `initialState: disabled` stay disabled until a control record says otherwise.
    this.state = new ControlState(initialStates(ctx.pipeline));
  }

  onModuleInit(): void {
    this.kafka.onConnected(
      () => this.start(),
      () => this.stop(),
    );
    this.readiness.register('control', () => (this.runner ? this.runner.problem() : 'control topic not followed yet'));
  }

  onChange(listener: (change: ControlChange) => void): void {
    this.listeners.push(listener);
  }

  /** Writes a control message (the latest per key on sync.control, and every one on the history topic). */
  async publish(message: ControlMessage): Promise<void> {
    const value = JSON.stringify(message);
    await this.kafka.producer.send([
      { topic: Topics.control, key: controlKey(message), value },
      { topic: Topics.controlHistory, key: message.entity, value },
    ]);
  }

  /** Applies a message; listeners hear it only when it arrives live (at start-up the state is simply read). */
  private apply(message: ControlMessage, live: boolean): void {
    const change = this.state.apply(message);
    if (!change || !live) return;
    this.ctx.logger.info({ change }, 'control change');
    for (const listener of this.listeners) listener(change);
  }

  private async start(): Promise<void> {
    if (this.runner) return;
    await this.kafka.admin.ensureTopics([{ topic: Topics.controlHistory }]);
    for (const message of (await this.kafka.connection.readCompacted(Topics.control)).values()) {
      try {
        this.apply(parseControlMessage(parseJsonValue(message.value)), false);
      } catch (err) {
        this.ctx.logger.warn({ err: errorMessage(err), offset: message.offset }, 'ignoring an invalid control record');
      }
    }
    // Each instance follows the whole topic with a group of its own. It re-reads from the start so
    // nothing written since the load above is missed; records already known change nothing.
    this.runner = this.kafka.connection.batchConsumer(this.kafka.producer, {
      app: this.ctx.app,
      groupId: `${this.ctx.app}-control-${randomUUID()}`,
      topics: [Topics.control],
      fromBeginning: true,
      handler: async (messages) => {
        for (const m of messages) this.apply(parseControlMessage(parseJsonValue(m.value)), true);
      },
    });
    await this.runner.start();
  }

  private async stop(): Promise<void> {
    await this.runner?.stop();
  }
}
