import { MetricsRegistry } from '@sync/observability';

/** The service's Prometheus series: events seen and applied per type, its own changes, lag. */
export class ServiceStats {
  readonly metrics = new MetricsRegistry('new-service');
  private readonly seenTotal = this.metrics.counter('service_events_seen_total', 'Domain events of others read from Kafka', ['type']);
  private readonly appliedTotal = this.metrics.counter('service_events_applied_total', 'Domain events applied to the service tables', ['type']);
  private readonly publishedTotal = this.metrics.counter('service_events_published_total', 'Own changes published as domain events', ['type']);
  private readonly lag = this.metrics.gauge('service_event_lag_seconds', 'Now minus the event time (ce_time) of the last event read');

  seen(type: string, time: string | undefined): void {
    this.seenTotal.inc({ type });
    if (time !== undefined) this.lag.set(Math.max(0, (Date.now() - Date.parse(time)) / 1000));
  }

  applied(type: string): void {
    this.appliedTotal.inc({ type });
  }

  published(type: string): void {
    this.publishedTotal.inc({ type });
  }
}
