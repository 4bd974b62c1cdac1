import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Lag of one topic-partition for one consumer group (the shape libs/kafka reports). */
export interface ConsumerLagFigure {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly messages: number;
  readonly seconds: number | undefined;
}

const LAG_LABELS = ['group', 'topic', 'partition'] as const;

/** One Prometheus registry per app, with process metrics and an `app` label on every series. */
export class MetricsRegistry {
  readonly registry = new Registry();
  private readonly lagSources: Array<() => readonly ConsumerLagFigure[]> = [];

  constructor(app: string) {
    this.registry.setDefaultLabels({ app });
    collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.existing<Counter<L>>(name) ?? new Counter({ name, help, labelNames: [...labelNames], registers: [this.registry] });
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.existing<Gauge<L>>(name) ?? new Gauge({ name, help, labelNames: [...labelNames], registers: [this.registry] });
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets?: number[]): Histogram<L> {
    return (
      this.existing<Histogram<L>>(name) ??
      new Histogram({ name, help, labelNames: [...labelNames], registers: [this.registry], ...(buckets ? { buckets } : {}) })
    );
  }

  /**
   * Adds a source of consumer-group lag, read at every scrape into `sync_consumer_lag_messages` and
   * `sync_consumer_lag_seconds` {group, topic, partition}: a partition this member no longer owns
   * disappears instead of keeping a stale value.
   */
  consumerLag(source: () => readonly ConsumerLagFigure[]): void {
    this.lagSources.push(source);
    if (this.existing('sync_consumer_lag_messages') !== undefined) return;
    const figures = (): ConsumerLagFigure[] => this.lagSources.flatMap((read) => read());
    new Gauge({
      name: 'sync_consumer_lag_messages',
      help: "Messages in a topic-partition the consumer group has not committed yet (log-end offset minus committed offset), reported by the member that owns the partition",
      labelNames: [...LAG_LABELS],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const f of figures()) this.set({ group: f.group, topic: f.topic, partition: String(f.partition) }, f.messages);
      },
    });
    new Gauge({
      name: 'sync_consumer_lag_seconds',
      help: 'Upper bound on the age of the oldest message not yet consumed in a topic-partition (0 when caught up)',
      labelNames: [...LAG_LABELS],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const f of figures()) if (f.seconds !== undefined) this.set({ group: f.group, topic: f.topic, partition: String(f.partition) }, f.seconds);
      },
    });
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private existing<T>(name: string): T | undefined {
    return this.registry.getSingleMetric(name) as T | undefined;
  }
}
