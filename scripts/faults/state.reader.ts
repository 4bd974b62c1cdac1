import type { Pool } from 'pg';
import type { AuditWrite, LegacyOrderRow, LegacyUserRow, ServiceOrderRow, ServiceUserRow } from './checks';

/** What the checks read from the three databases of the run. */
export interface FinalState {
  readonly legacyUsers: LegacyUserRow[];
  readonly legacyOrders: LegacyOrderRow[];
  readonly serviceUsers: ServiceUserRow[];
  readonly serviceOrders: ServiceOrderRow[];
  /** Distinct domain events the new service applied (its processed_events). */
  readonly serviceEventsApplied: number;
  /** Write-back inbox rows of commands that came from the new service. */
  readonly inboxRows: number;
  readonly writebackParked: number;
  readonly idTranslationParked: number;
}

export class StateReader {
  constructor(
    private readonly legacy: Pool,
    private readonly service: Pool,
    private readonly keymap: Pool,
    private readonly serviceOrigin: string,
  ) {}

  async read(): Promise<FinalState> {
    const [legacyUsers, legacyOrders, serviceUsers, serviceOrders, events, inbox, wbParked, idtParked] = await Promise.all([
      this.legacy.query<LegacyUserRow>('SELECT id, name, email, street, city, zip FROM users'),
      this.legacy.query<LegacyOrderRow>('SELECT id, user_id, total::text AS total FROM orders'),
      this.service.query<ServiceUserRow>('SELECT u.id, u.name, u.email, a.street, a.city, a.zip FROM users u LEFT JOIN addresses a ON a.user_id = u.id'),
      this.service.query<ServiceOrderRow>('SELECT id, user_id, total::text AS total FROM orders'),
      this.service.query<{ n: number }>('SELECT count(*)::int AS n FROM processed_events'),
      this.legacy.query<{ n: number }>('SELECT count(*)::int AS n FROM sync.inbox WHERE origin = $1', [this.serviceOrigin]),
      this.legacy.query<{ n: number }>('SELECT count(*)::int AS n FROM sync.writeback_parked'),
      this.keymap.query<{ n: number }>('SELECT count(*)::int AS n FROM keymap_parked_command'),
    ]);
    return {
      legacyUsers: legacyUsers.rows,
      legacyOrders: legacyOrders.rows,
      serviceUsers: serviceUsers.rows,
      serviceOrders: serviceOrders.rows,
      serviceEventsApplied: events.rows[0]!.n,
      inboxRows: inbox.rows[0]!.n,
      writebackParked: wbParked.rows[0]!.n,
      idTranslationParked: idtParked.rows[0]!.n,
    };
  }

  async auditWrites(): Promise<AuditWrite[]> {
    const res = await this.legacy.query<AuditWrite>(
      `SELECT seq::int AS seq, tx::text AS tx, table_name AS "table", op, row_id AS "rowId", old_name AS "oldName", new_name AS "newName",
              old_email AS "oldEmail", new_email AS "newEmail", old_street AS "oldStreet", new_street AS "newStreet"
         FROM faults.writes ORDER BY seq`,
    );
    return res.rows;
  }
}
