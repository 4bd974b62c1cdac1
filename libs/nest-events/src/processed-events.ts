import type { DataSource, EntityManager } from 'typeorm';

/** A name for a table: letters, digits and underscores, optionally schema-qualified. */
const TABLE_NAME = /^(?:[a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,62}$/;

function quoted(name: string): string {
  if (!TABLE_NAME.test(name)) throw new Error(`processedEventsTable: "${name}" is not a lower-case SQL name (letters, digits, _; optionally schema.table)`);
  return name.split('.').map((part) => `"${part}"`).join('.');
}

/**
 * Exactly-once effects for a consumer that is delivered at least once: the event's id is stored in
 * the same PostgreSQL transaction as the handler's writes, so a redelivered event (after a crash,
 * a rebalance, a replay) finds its id and changes nothing.
 */
export class ProcessedEvents {
  private readonly table: string;

  constructor(
    private readonly dataSource: DataSource,
    table = 'processed_event',
  ) {
    this.table = quoted(table);
  }

  /** Creates the table if it is missing (id text primary key, when it was applied). */
  async ensureTable(): Promise<void> {
    await this.dataSource.query(`CREATE TABLE IF NOT EXISTS ${this.table} (event_id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
  }

  /**
   * Runs `work` in a transaction with the event's id recorded (PostgreSQL); returns false, without running it,
   * when the id was recorded before. An error in `work` rolls both back and is rethrown, so the
   * transport delivers the event again.
   */
  async once(eventId: string, work: (manager: EntityManager) => Promise<void>): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const claimed: unknown[] = await manager.query(`INSERT INTO ${this.table} (event_id) VALUES ($1) ON CONFLICT (event_id) DO NOTHING RETURNING event_id`, [eventId]);
      if (claimed.length === 0) return false;
      await work(manager);
      return true;
    });
  }
}
