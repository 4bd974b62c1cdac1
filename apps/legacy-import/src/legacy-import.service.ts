import { hostname } from 'node:os';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONTEXT, ControlWatcher, KafkaCoreService, type AppContext } from '@sync/app-core';
import type { SystemConfig, TableConfig } from '@sync/config';
import { Topics } from '@sync/contracts';
import { errorMessage } from '@sync/errors';
import { backoffDelay, sleep, type LeaseAssignment, type LeaseGroup, type LeaseListener, type OutboundRecord } from '@sync/kafka';
import { createCaptureSource, createImportLeaseStore, describeTable, LegacyDbRegistry, NOTIFY_CHANNEL, PostgresLegacyDb, type ImportLeaseStore } from '@sync/legacy-db';
import { MetricsRegistry, ReadinessRegistry } from '@sync/observability';
import { captureMetrics, type CaptureMetrics } from './capture.metrics';
import { decodeState, encodeState, entityName, type CaptureState } from './capture-state';
import { TableCaptureRunner, type CapturePorts } from './table-capture.runner';
import { technicalRecordEncoder } from './technical-record.encoder';
import { IMPORT_APP } from './import-dead-letter.builder';
import { defaultLeaseTopic, heartbeatInterval, holdsEpoch, leaseKeyOf, LeaseLostError, unitsOfPartitions, workUnits } from './import-leases';
import { leaseMetrics, type LeaseMetrics } from './lease.metrics';

interface Unit {
  readonly system: SystemConfig;
  readonly table: TableConfig;
  readonly store: ImportLeaseStore;
  /** The lease partition's key: the entity, or `<system>:logical` for the tables sharing a slot. */
  readonly leaseKey: string;
}

/**
 * Runs one capture loop per work unit (entity) this replica holds. Units are leased through a
 * consumer group on the lease topic; every assignment is a takeover that increments the unit's
 * epoch in the legacy database, and a unit publishes and saves its position only while that epoch
 * is current (docs/legacy-import.md "Replicas").
 */
@Injectable()
export class LegacyImportService implements OnModuleInit {
  private readonly runners = new Map<string, TableCaptureRunner>();
  private readonly units = new Map<string, Unit>();
  private order: string[] = [];
  private leases: LeaseGroup | undefined;
  private leaseTopic = '';
  private queue: Promise<void> = Promise.resolve();
  /** Bumped on every revoke and assignment, so a takeover still retrying for an older one gives up. */
  private generation = 0;
  private stopping = false;
  /** Cuts retry waits short on shutdown. */
  private readonly shutdown = new AbortController();
  private lostBecause: string | undefined;
  private metrics: CaptureMetrics | undefined;
  private lease: LeaseMetrics | undefined;

  constructor(
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
    @Inject(KafkaCoreService) private readonly kafka: KafkaCoreService,
    @Inject(LegacyDbRegistry) private readonly dbs: LegacyDbRegistry,
    @Inject(MetricsRegistry) private readonly registry: MetricsRegistry,
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
    // A replica holding no unit is a ready standby; one that is not in the lease group is not.
    this.readiness.register('capture', () => {
      const problems = [...this.runners.values()].map((r) => r.problem()).filter((p): p is string => p !== undefined);
      if (this.leases && !this.leases.isJoined) problems.unshift(this.lostBecause ?? `not yet in the lease group ${this.leaseTopic}`);
      return problems.length > 0 ? problems.join('; ') : undefined;
    });
  }

  private async start(): Promise<void> {
    if (this.leases) return;
    this.metrics ??= captureMetrics(this.registry);
    this.lease ??= leaseMetrics(this.registry);
    for (const system of this.ctx.pipeline.systems.values()) {
      const db = this.dbs.get(system.name);
      const store = createImportLeaseStore(db, system);
      // The table is part of `sync-ctl schema`; created here too so an upgrade needs no manual step.
      await store.ensureTable().catch((err: unknown) => this.ctx.logger.warn({ system: system.name, err: errorMessage(err) }, 'could not create the import lease table (sync-ctl schema creates it)'));
      for (const table of system.tables) this.units.set(entityName(table), { system, table, store, leaseKey: leaseKeyOf(system.name, entityName(table), table.capture.mode) });
      if (db instanceof PostgresLegacyDb) {
        db.listen(NOTIFY_CHANNEL, (payload) => this.runners.get(`${system.name}.${payload}`)?.wake());
      }
    }
    this.order = workUnits([...this.units.values()].map((u) => u.leaseKey));
    const { leases } = this.ctx.env;
    this.leaseTopic = leases.topic ?? defaultLeaseTopic(this.ctx.pipeline.systems.keys());
    await this.kafka.admin.ensureTopics([
      ...[...this.units.values()].map(({ table: t }) => ({ topic: Topics.legacy({ system: t.system, schema: t.schema, table: t.name }) })),
      { topic: Topics.dlq(IMPORT_APP) },
      { topic: this.leaseTopic, partitions: this.order.length },
    ]);
    if (await this.kafka.admin.growPartitions(this.leaseTopic, this.order.length)) {
      this.ctx.logger.info({ topic: this.leaseTopic, partitions: this.order.length }, 'lease topic grew to one partition per unit');
    }
    const group = this.kafka.connection.leaseGroup({
      topic: this.leaseTopic,
      groupId: leases.group ?? this.leaseTopic,
      sessionTimeoutMs: leases.sessionTimeoutMs,
      heartbeatIntervalMs: heartbeatInterval(leases.sessionTimeoutMs),
    });
    this.leases = group;
    await group.start(this.listener);
    this.ctx.logger.info({ topic: this.leaseTopic, units: this.order.length }, 'joining the lease group');
  }

  private readonly listener: LeaseListener = {
    onRevoke: () => {
      this.generation++;
      this.enqueue(() => this.stopAll('rebalance'));
    },
    onAssign: (assignment) => {
      this.lostBecause = undefined;
      const generation = ++this.generation;
      this.enqueue(() => this.assign(assignment, generation));
    },
    onLost: (reason) => {
      this.generation++;
      this.lostBecause = `left the lease group: ${reason}`;
      this.enqueue(async () => {
        await this.stopAll('lease group lost');
        await this.rejoin();
      });
    },
  };

  /** After the lease consumer crashed for good (kafkajs gave up): a fresh member, with backoff. */
  private async rejoin(): Promise<void> {
    for (let attempt = 1; !this.stopping && this.leases; attempt++) {
      await sleep(backoffDelay(attempt, { initialMs: 1_000, maxMs: 30_000, jitter: 0.2 }), this.shutdown.signal);
      if (this.stopping) return;
      try {
        await this.leases.stop();
        await this.leases.start(this.listener);
        this.ctx.logger.info({ topic: this.leaseTopic, attempt }, 'rejoined the lease group');
        return;
      } catch (err) {
        this.ctx.logger.warn({ attempt, err: errorMessage(err) }, 'rejoining the lease group failed, retrying');
      }
    }
  }

  /** Lease events are handled one at a time, in the order they arrived. */
  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: unknown) => this.ctx.logger.error({ err: errorMessage(err) }, 'lease handling failed'));
  }

  /** A new generation: every unit it assigns is taken over afresh (new epoch), whether this replica held it before or not. */
  private async assign(assignment: LeaseAssignment, generation: number): Promise<void> {
    await this.stopAll('new assignment');
    const leased = new Set(unitsOfPartitions(this.order, assignment.partitions));
    const mine = [...this.units].filter(([, u]) => leased.has(u.leaseKey)).map(([entity]) => entity).sort();
    let fallback: Map<string, CaptureState> | undefined;
    for (const entity of mine) {
      const unit = this.units.get(entity)!;
      const owner = `${hostname()}:${process.pid}:${assignment.memberId}`;
      const taken = await this.retrying(`taking ${entity} over`, generation, () => unit.store.takeOver(entity, owner));
      if (!taken) return;
      let saved = taken.state === null ? undefined : decodeState(taken.state);
      if (taken.state !== null && saved === undefined) this.ctx.logger.warn({ entity }, 'ignoring an unreadable state in the import lease table');
      // States saved before leases existed are in sync.offsets: read once, only when needed.
      if (taken.state === null) {
        fallback ??= await this.retrying('reading sync.offsets', generation, () => this.loadOffsets());
        if (!fallback) return;
        saved = fallback.get(entity);
      }
      if (generation !== this.generation || this.stopping) return;
      this.startUnit(entity, unit, taken.epoch, saved);
    }
    this.lease!.owned.set(this.runners.size);
    this.ctx.logger.info({ units: [...this.runners.keys()], partitions: assignment.partitions, leader: assignment.isLeader }, 'work units assigned');
  }

  /** Runs `work` until it succeeds, backing off while the database or Kafka fails; undefined once a newer lease event supersedes it. */
  private async retrying<T>(what: string, generation: number, work: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 1; generation === this.generation && !this.stopping; attempt++) {
      try {
        return await work();
      } catch (err) {
        const delay = backoffDelay(attempt, { initialMs: 250, maxMs: 10_000, jitter: 0.2 });
        this.ctx.logger.warn({ attempt, delayMs: delay, err: errorMessage(err) }, `${what} failed, retrying`);
        await sleep(delay, this.shutdown.signal);
      }
    }
    return undefined;
  }

  private startUnit(entity: string, unit: Unit, epoch: number, saved: CaptureState | undefined): void {
    const ref: { runner?: TableCaptureRunner } = {};
    const db = this.dbs.get(unit.system.name);
    const encoder = technicalRecordEncoder(unit.table, unit.system.dialect, () => describeTable(db, unit.table.schema, unit.table.name), this.ctx.pipeline.technicalTopics);
    const runner = new TableCaptureRunner(unit.table, createCaptureSource(db, unit.system, unit.table), this.ports(entity, unit.store, epoch, ref), this.metrics!, this.ctx.logger, saved, {
      maxMessageBytes: this.ctx.env.kafka.maxMessageBytes,
    }, encoder);
    ref.runner = runner;
    const state = this.control.state.stateOf(entity, 'legacy-to-new');
    if (state !== 'enabled') runner.setControl(state);
    this.runners.set(entity, runner);
    this.lease!.takeovers.inc({ entity });
    this.lease!.epoch.set({ entity }, epoch);
    this.ctx.logger.info({ entity, epoch }, 'unit taken over');
    runner.start();
  }

  /**
   * The fenced ports of one unit at one epoch: a batch is published only after the store still
   * shows the epoch, and the state is saved by `UPDATE ... WHERE epoch = mine`; a zombie finds a
   * newer epoch and stops. The save is mirrored to sync.offsets for sync-ctl and the console.
   */
  private ports(entity: string, store: ImportLeaseStore, epoch: number, ref: { runner?: TableCaptureRunner }): CapturePorts {
    return {
      publish: async (records: readonly OutboundRecord[]) => {
        const current = await store.currentEpoch(entity);
        if (!holdsEpoch(epoch, current)) throw new LeaseLostError(entity, epoch, current);
        await this.kafka.producer.send(records);
      },
      saveState: async (_entity: string, state: CaptureState) => {
        const encoded = encodeState(state);
        if (!(await store.saveState(entity, epoch, encoded))) throw new LeaseLostError(entity, epoch, await store.currentEpoch(entity).catch(() => undefined));
        await this.kafka.producer.send([{ topic: Topics.offsets, key: entity, value: encoded }]);
      },
      leaseLost: (err) => {
        this.lease!.fenced.inc({ entity });
        if (this.runners.get(entity) === ref.runner) this.runners.delete(entity);
        this.lease!.owned.set(this.runners.size);
        this.ctx.logger.warn({ entity, epoch, current: err.current }, 'unit fenced: another replica holds it now');
      },
    };
  }

  private async stopAll(why: string): Promise<void> {
    if (this.runners.size === 0) return;
    const entities = [...this.runners.keys()];
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
    this.lease?.owned.set(0);
    this.ctx.logger.info({ entities, why }, 'work units released');
  }

  private async loadOffsets(): Promise<Map<string, CaptureState>> {
    const records = await this.kafka.connection.readCompacted(Topics.offsets);
    const states = new Map<string, CaptureState>();
    for (const [entity, message] of records) {
      if (!this.units.has(entity)) continue;
      const state = message.value ? decodeState(message.value.toString()) : undefined;
      if (state) states.set(entity, state);
      else this.ctx.logger.warn({ entity }, 'ignoring an unreadable record in sync.offsets');
    }
    return states;
  }

  /** Shutdown: finish the batches in hand (published, position saved), then leave the group so the others take over at once. */
  private async stop(): Promise<void> {
    this.stopping = true;
    this.shutdown.abort();
    this.generation++;
    this.enqueue(() => this.stopAll('shutdown'));
    await this.queue;
    await this.leases?.stop();
  }

  /** Asks every importer (through sync.control) to re-snapshot one entity; false when it is not configured. */
  async resnapshot(entity: string, by: string, reason: string): Promise<boolean> {
    if (!this.units.has(entity)) return false;
    await this.control.publish({ entity, action: 'resnapshot', by, reason, at: new Date().toISOString() });
    return true;
  }

  /** The units this replica holds now (a standby lists none). */
  entities(): Array<{ entity: string; sync: string; state: CaptureState | undefined; problem: string | undefined }> {
    return [...this.runners.values()].map((r) => ({ entity: r.entity, sync: r.controlState(), state: r.currentState(), problem: r.problem() }));
  }
}
