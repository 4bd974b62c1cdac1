import { DataSource, type EntityManager } from 'typeorm';
import { freshEvents, planBatch, type BatchPlan } from './batch-plan';
import { SERVICE_SCHEMA_SQL } from './service-schema';

/** A domain event as the service applies it. */
export interface ServiceEvent {
  readonly id: string;
  readonly type: string;
  /** The aggregate's global id. */
  readonly subject: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** ce_legacyversion: the legacy row version the event shows, when it came from the legacy side. */
  readonly legacyVersion?: string;
}

export interface Address {
  readonly street: string;
  readonly city: string;
  readonly zip: string;
}

/** The service's own PostgreSQL tables (TypeORM raw queries; the service never sees a legacy key). */
export class ServiceRepository {
  private readonly ds: DataSource;

  constructor(url: string) {
    this.ds = new DataSource({ type: 'postgres', url, extra: { max: 4, connectionTimeoutMillis: 5000 } });
  }

  async connect(): Promise<void> {
    await this.ds.initialize();
    await this.ds.query(SERVICE_SCHEMA_SQL);
  }

  /**
   * Applies a batch in one transaction with a few set-based statements, whatever its size: the
   * event ids are recorded in one multi-row insert (an id seen before, or twice in the batch, is
   * skipped), then the batch is folded per key (planBatch: the last write per key wins, in event
   * order) and written with one statement per table and kind. Returns the applied types.
   */
  async apply(events: readonly ServiceEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    return this.ds.transaction(async (tx) => {
      const recorded = (await tx.query('INSERT INTO processed_events (event_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING event_id', [events.map((e) => e.id)])) as Array<{ event_id: string }>;
      const plan = planBatch(freshEvents(events, new Set(recorded.map((r) => r.event_id))));
      await writePlan(tx, plan);
      return [...plan.applied];
    });
  }

  /** The service's own change: a new user with an address, written locally first. */
  async createUser(id: string, name: string, email: string, address: Address): Promise<void> {
    await this.ds.transaction(async (tx) => {
      await upsertUser(tx, id, name, email);
      await upsertAddress(tx, id, address);
    });
  }

  async moveUser(id: string, address: Address): Promise<void> {
    await upsertAddress(this.ds.manager, id, address);
  }

  /** The legacy row version the service last saw for a user (undefined for a user born here and not yet seen back). */
  async legacyVersion(id: string): Promise<string | undefined> {
    const rows = (await this.ds.query('SELECT legacy_version FROM users WHERE id = $1', [id])) as Array<{ legacy_version: string | null }>;
    return rows[0]?.legacy_version ?? undefined;
  }

  async changeUser(id: string, name: string, email: string): Promise<void> {
    await upsertUser(this.ds.manager, id, name, email);
  }

  async removeUser(id: string): Promise<void> {
    await this.ds.transaction((tx) => removeUser(tx, id));
  }

  async counts(): Promise<Record<string, number>> {
    const rows = (await this.ds.query(
      `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM addresses)::int AS addresses, (SELECT count(*) FROM orders)::int AS orders`,
    )) as Array<Record<string, number>>;
    return rows[0]!;
  }

  async close(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

function text(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

async function upsertUser(tx: EntityManager, id: string, name: unknown, email: unknown): Promise<void> {
  await tx.query(
    `INSERT INTO users (id, name, email) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, updated_at = now()`,
    [id, text(name) ?? '', text(email)],
  );
}

async function upsertAddress(tx: EntityManager, id: string, a: { street?: unknown; city?: unknown; zip?: unknown }): Promise<void> {
  await tx.query(
    `INSERT INTO addresses (user_id, street, city, zip) VALUES ($1, $2, $3, $4)
     ON CONFLICT (user_id) DO UPDATE SET street = EXCLUDED.street, city = EXCLUDED.city, zip = EXCLUDED.zip, updated_at = now()`,
    [id, text(a.street), text(a.city), text(a.zip)],
  );
}

async function removeUser(tx: EntityManager, id: string): Promise<void> {
  await tx.query('DELETE FROM addresses WHERE user_id = $1', [id]);
  await tx.query('DELETE FROM users WHERE id = $1', [id]);
}

/** One statement per non-empty list, in the order BatchPlan prescribes; values travel as arrays (unnest). */
async function writePlan(tx: EntityManager, plan: BatchPlan): Promise<void> {
  if (plan.userDeletes.length > 0) await tx.query('DELETE FROM users WHERE id = ANY($1::text[])', [plan.userDeletes]);
  if (plan.userVersions.length > 0) {
    await tx.query('UPDATE users u SET legacy_version = v.version FROM unnest($1::text[], $2::text[]) AS v (id, version) WHERE u.id = v.id', [
      plan.userVersions.map((v) => v.id),
      plan.userVersions.map((v) => v.legacyVersion),
    ]);
  }
  if (plan.userUpserts.length > 0) {
    const rows = plan.userUpserts;
    await tx.query(
      `INSERT INTO users (id, name, email, legacy_version) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, updated_at = now(), legacy_version = COALESCE(EXCLUDED.legacy_version, users.legacy_version)`,
      [rows.map((r) => r.id), rows.map((r) => r.name), rows.map((r) => r.email), rows.map((r) => r.legacyVersion)],
    );
  }
  if (plan.addressDeletes.length > 0) await tx.query('DELETE FROM addresses WHERE user_id = ANY($1::text[])', [plan.addressDeletes]);
  if (plan.addressUpserts.length > 0) {
    const rows = plan.addressUpserts;
    await tx.query(
      `INSERT INTO addresses (user_id, street, city, zip) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
       ON CONFLICT (user_id) DO UPDATE SET street = EXCLUDED.street, city = EXCLUDED.city, zip = EXCLUDED.zip, updated_at = now()`,
      [rows.map((r) => r.userId), rows.map((r) => r.street), rows.map((r) => r.city), rows.map((r) => r.zip)],
    );
  }
  if (plan.orderDeletes.length > 0) await tx.query('DELETE FROM orders WHERE id = ANY($1::text[])', [plan.orderDeletes]);
  if (plan.orderUpserts.length > 0) {
    const rows = plan.orderUpserts;
    await tx.query(
      `INSERT INTO orders (id, user_id, total, placed_at) SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::timestamptz[])
       ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, total = EXCLUDED.total, placed_at = EXCLUDED.placed_at, updated_at = now()`,
      [rows.map((r) => r.id), rows.map((r) => r.userId), rows.map((r) => r.total), rows.map((r) => r.placedAt)],
    );
  }
}
