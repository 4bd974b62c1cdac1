import type { DataSource, EntityManager } from 'typeorm';
import type { DomainEvent } from '@sync/nest-events';
import type { CustomerData } from './customer-events.controller';

/** The service's own customers table: one row per aggregate (global id), with the last legacy version seen. */
export class CustomerStore {
  constructor(private readonly dataSource: DataSource) {}

  async ensureTable(): Promise<void> {
    await this.dataSource.query(`CREATE TABLE IF NOT EXISTS nest_customer (
      id text PRIMARY KEY, name text, email text, legacy_version text, applied_events integer NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now())`);
  }

  async apply(tx: EntityManager, event: DomainEvent<CustomerData>): Promise<void> {
    if (event.type.endsWith('Deleted')) {
      await tx.query('DELETE FROM nest_customer WHERE id = $1', [event.subject]);
      return;
    }
    await tx.query(
      `INSERT INTO nest_customer (id, name, email, legacy_version, applied_events) VALUES ($1, $2, $3, $4, 1)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, legacy_version = EXCLUDED.legacy_version,
         applied_events = nest_customer.applied_events + 1, updated_at = now()`,
      [event.subject, event.data.name ?? null, event.data.email ?? null, event.legacyVersion ?? null],
    );
  }

  async get(id: string): Promise<{ name: string | null; email: string | null; legacy_version: string | null; applied_events: number } | undefined> {
    const rows: Array<{ name: string | null; email: string | null; legacy_version: string | null; applied_events: number }> = await this.dataSource.query('SELECT name, email, legacy_version, applied_events FROM nest_customer WHERE id = $1', [id]);
    return rows[0];
  }
}
