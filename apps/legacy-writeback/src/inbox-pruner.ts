import type { LegacyWritebackConfig, SystemConfig, TableConfig } from '@sync/config';
import { Topics } from '@sync/contracts';
import type { TopicAdmin } from '@sync/kafka';
import type { InboxRetentionStore } from '@sync/legacy-db';
import type { MetricsRegistry } from '@sync/observability';

/** Observations kept per partition while the group lags; dropping the oldest only prunes less. */
const MAX_OBSERVATIONS = 500;
const ROWS_PER_STATEMENT = 5_000;

/**
 * When a command id can no longer come back from Kafka, per topic partition.
 *
 * The inbox records no source offset, so the rule works on time: at `at` (database clock) the
 * partition's end offset was `end`. Every message at or after `end` was appended after `at`, so it
 * was applied (and its inbox row stamped, same clock) after `at`. Once the group's committed offset
 * reaches `end`, only those messages can be redelivered: inbox rows applied before `at` belong to
 * committed messages. The horizon of a partition is the latest such `at`.
 */
export class RedeliveryHorizon {
  private readonly observations = new Map<string, Array<{ at: Date; end: bigint }>>();

  observe(topic: string, partition: number, at: Date, end: bigint): void {
    const key = `${topic}/${partition}`;
    let list = this.observations.get(key);
    if (!list) this.observations.set(key, (list = []));
    list.push({ at, end });
    if (list.length > MAX_OBSERVATIONS) list.shift();
  }

  /**
   * The horizon for a partition whose group position is `position` (its committed offset, or where
   * the group would start without one); undefined while the group has not reached any observation.
   * Forgets the observations it no longer needs.
   */
  horizon(topic: string, partition: number, position: bigint): Date | undefined {
    const list = this.observations.get(`${topic}/${partition}`) ?? [];
    let reached = -1;
    for (let i = 0; i < list.length; i++) if (list[i]!.end <= position) reached = i;
    if (reached < 0) return undefined;
    list.splice(0, reached);
    return list[0]!.at;
  }
}

/** Where the group resumes in a partition: its committed offset, else the log start (it reads from the beginning). */
export function groupPosition(committed: string | undefined, low: string): bigint {
  const c = committed === undefined ? -1n : BigInt(committed);
  const start = BigInt(low);
  return c < 0n || c < start ? start : c;
}

export interface InboxPrunerTarget {
  readonly system: SystemConfig;
  readonly store: InboxRetentionStore;
}

type Log = { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };

/** Periodic inbox retention: deletes rows past `inboxMaxAgeMs` / `inboxKeepPerEntity` that Kafka can no longer redeliver. */
export class InboxPruner {
  private readonly horizons = new RedeliveryHorizon();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly pruned;
  private readonly lastRun;
  private readonly lastHorizon;

  constructor(
    private readonly targets: readonly InboxPrunerTarget[],
    private readonly admin: TopicAdmin,
    private readonly groupId: string,
    private readonly config: LegacyWritebackConfig,
    metrics: MetricsRegistry,
    private readonly log: Log,
  ) {
    this.pruned = metrics.counter('sync_writeback_inbox_pruned_total', 'Inbox rows deleted by the retention', ['entity']);
    this.lastRun = metrics.gauge('sync_writeback_inbox_prune_last_run_seconds', 'Unix time of the last completed inbox pruning round');
    this.lastHorizon = metrics.gauge('sync_writeback_inbox_prune_horizon_seconds', 'Unix time before which no inbox row of the table can be redelivered (last round)', ['entity']);
  }

  start(): void {
    if (this.config.inboxPruneIntervalMs === 0 || this.timer) return;
    const tick = (): void => {
      this.running = this.runOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.log.warn({ err: String(err) }, 'inbox pruning round failed; next round retries'))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.config.inboxPruneIntervalMs);
        });
    };
    // The first round only observes end offsets (nothing is prunable yet unless the group is caught up).
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One round over every entity; returns the rows deleted per table. */
  async runOnce(): Promise<Map<string, number>> {
    const deleted = new Map<string, number>();
    for (const { system, store } of this.targets) {
      for (const table of system.tables) {
        const ref = `${system.name}.${table.schema}.${table.name}`;
        const n = await this.pruneTable(system, table, store);
        if (n === undefined) continue;
        deleted.set(ref, n);
        if (n > 0) {
          this.pruned.inc({ entity: ref }, n);
          this.log.info({ table: ref, rows: n }, 'inbox rows pruned');
        }
      }
    }
    this.lastRun.set(Date.now() / 1000);
    return deleted;
  }

  private async pruneTable(system: SystemConfig, table: TableConfig, store: InboxRetentionStore): Promise<number | undefined> {
    const topic = Topics.resolved({ system: system.name, schema: table.schema, table: table.name });
    // The database clock first, the end offsets after: see RedeliveryHorizon.
    const at = await store.now();
    const partitions = await this.admin.partitionOffsets(topic);
    if (partitions.length === 0) return undefined;
    for (const p of partitions) this.horizons.observe(topic, p.partition, at, BigInt(p.high));
    const committed = await this.admin.committedOffsets(this.groupId, topic);
    let horizon: Date | undefined;
    for (const p of partitions) {
      const h = this.horizons.horizon(topic, p.partition, groupPosition(committed.get(p.partition), p.low));
      if (h === undefined) return undefined;
      if (horizon === undefined || h < horizon) horizon = h;
    }
    const ref = `${system.name}.${table.schema}.${table.name}`;
    this.lastHorizon.set({ entity: ref }, horizon!.getTime() / 1000);
    return store.prune({
      schema: table.schema,
      table: table.name,
      horizon: new Date(horizon!.getTime() - this.config.inboxPruneMarginMs),
      olderThan: new Date(at.getTime() - this.config.inboxMaxAgeMs),
      ...(this.config.inboxKeepPerEntity !== undefined ? { keepNewest: this.config.inboxKeepPerEntity } : {}),
      limit: ROWS_PER_STATEMENT,
    });
  }
}
