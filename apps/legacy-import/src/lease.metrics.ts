import type { MetricsRegistry } from '@sync/observability';

/** Work-unit leases of this replica (docs/legacy-import.md "Replicas"). */
export function leaseMetrics(registry: MetricsRegistry) {
  return {
    owned: registry.gauge('sync_import_units_owned', 'Work units (entities) this replica holds now; 0 on a standby'),
    epoch: registry.gauge('sync_import_unit_epoch', 'Epoch of the last takeover of the unit by this replica', ['entity']),
    takeovers: registry.counter('sync_import_takeovers_total', 'Takeovers of the unit by this replica (each increments its epoch)', ['entity']),
    fenced: registry.counter('sync_import_fenced_total', 'Times this replica found the unit taken over by another and stopped it without publishing or saving', ['entity']),
  };
}

export type LeaseMetrics = ReturnType<typeof leaseMetrics>;
