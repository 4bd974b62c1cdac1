import { DataSource, type EntityManager } from 'typeorm';
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

  /** Applies a batch in one transaction; an event seen before (same CloudEvents id) is skipped. Returns the applied types. */
  async apply(events: readonly ServiceEvent[]): Promise<string[]> {
    return this.ds.transaction(async (tx) => {
      const applied: string[] = [];
      for (const e of events) {
        const fresh = (await tx.query('INSERT INTO processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING event_id', [e.id])) as unknown[];
        if (fresh.length === 0) continue;
        if (await applyOne(tx, e)) applied.push(e.type);
        if (e.legacyVersion !== undefined && e.type !== 'UserRemoved' && e.type !== 'OrderPlaced') {
          await tx.query('UPDATE users SET legacy_version = $2 WHERE id = $1', [e.subject, e.legacyVersion]);
        }
      }
      return applied;
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

async function applyOne(tx: EntityManager, e: ServiceEvent): Promise<boolean> {
  switch (e.type) {
    case 'UserChanged':
      await upsertUser(tx, e.subject, e.data['name'], e.data['email']);
      return true;
    case 'AddressChanged':
      await upsertAddress(tx, e.subject, e.data);
      return true;
    case 'UserRemoved':
      await removeUser(tx, e.subject);
      return true;
    case 'OrderRemoved':
      await tx.query('DELETE FROM orders WHERE id = $1', [e.subject]);
      return true;
    case 'OrderPlaced':
      await tx.query(
        `INSERT INTO orders (id, user_id, total, placed_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, total = EXCLUDED.total, placed_at = EXCLUDED.placed_at, updated_at = now()`,
        [e.subject, text(e.data['userId']), text(e.data['total']), text(e.data['placedAt'])],
      );
      return true;
    default:
      // An event type this service does not keep: acknowledged and ignored.
      return false;
  }
}
