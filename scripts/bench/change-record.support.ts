import type { OutboundRecord } from '@sync/kafka';

/** A change-event-shaped record (554 B JSON, 10 headers) as the producer and client benches send it. */
export function changeRecord(topic: string, i: number): OutboundRecord {
  const id = i % 5000;
  const after = { id, name: `Customer ${id}`, email: `customer${id}@example.org`, street: `${i} Main Street`, city: 'Leeds', zip: String(10000 + (i % 90000)), balance: (i * 7.31).toFixed(2), active: i % 3 !== 0, updated_at: new Date(1_735_787_045_000 + i).toISOString() };
  const value = JSON.stringify({ op: 'u', before: { ...after, city: 'York' }, after, source: { system: 'crm', schema: 'public', table: 'customers', position: String(i), committedAt: after.updated_at, txId: String(1000 + (i >> 4)) }, ts_ms: 1_735_787_045_000 + i });
  const headers: Record<string, string> = {
    'sync-origin': 'legacy', 'sync-entity': 'customers', 'sync-system': 'crm', 'sync-position': String(i), 'sync-tx': String(1000 + (i >> 4)),
    'sync-schema-version': '1', 'sync-correlation-id': `c-${i}`, 'sync-causation-id': `k-${id}`, 'sync-ts': String(1_735_787_045_000 + i), 'content-type': 'application/json',
  };
  return { topic, key: JSON.stringify({ id }), value, headers };
}
