/**
 * Which inbox rows of one entity a pruning round may delete. A row goes only when it was applied
 * before `horizon` (every command that could still be redelivered was applied after it: see
 * apps/legacy-writeback inbox-pruner.ts) and it is either older than `olderThan` or beyond the
 * `keepNewest` newest rows of the entity. A row applied after the oldest command still parked for
 * the entity stays too: a parked command is re-applied from the parked table (not from Kafka), and
 * a crash between its apply and its unpark finds it in the inbox. The statements name no id column
 * (the command identity may change): rows are chosen by entity and applied_at only.
 */
export interface InboxPruneRule {
  readonly system: string;
  readonly schema: string;
  readonly table: string;
  readonly horizon: Date;
  readonly olderThan?: Date;
  readonly keepNewest?: number;
  /** At most this many rows per statement, so one round never holds long locks. */
  readonly limit: number;
}

/** The database's clock: horizons and applied_at come from the same clock. */
export const INBOX_CLOCK_SQL = {
  postgres: 'SELECT clock_timestamp() AS now',
  mssql: 'SELECT SYSUTCDATETIME() AS now',
} as const;


/** Deletes inbox rows of one system by an InboxPruneRule, on the system's pool. */
export interface InboxRetentionStore {
  /** The database's current time (the clock of applied_at). */
  now(): Promise<Date>;
  /** Deletes the rows the rule allows, `rule.limit` per statement, until none are left; returns how many. */
  prune(rule: Omit<InboxPruneRule, 'system'>): Promise<number>;
}

/** Runs one bounded delete until a round deletes fewer than `limit` rows; returns the total. */
export async function pruneInRounds(once: () => Promise<number>, limit: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await once();
    total += n;
    if (n < limit) return total;
  }
}
