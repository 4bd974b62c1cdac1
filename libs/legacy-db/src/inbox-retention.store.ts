import type { SystemConfig } from '@sync/config';
import { runMssql } from './mssql/mssql-statement';
import type { LegacyDb } from './core/legacy-db.interface';
import { MssqlLegacyDb } from './mssql/mssql.legacy-db';
import { PostgresLegacyDb } from './postgres/postgres.legacy-db';
import { INBOX_CLOCK_SQL, mssqlInboxPrune, postgresInboxPrune, type InboxPruneRule } from './core/inbox-retention.sql';

/** Deletes inbox rows of one system by an InboxPruneRule, on the system's pool. */
export interface InboxRetentionStore {
  /** The database's current time (the clock of applied_at). */
  now(): Promise<Date>;
  /** Deletes the rows the rule allows, `rule.limit` per statement, until none are left; returns how many. */
  prune(rule: Omit<InboxPruneRule, 'system'>): Promise<number>;
}

export function createInboxRetentionStore(db: LegacyDb, system: SystemConfig): InboxRetentionStore {
  const loop = async (once: () => Promise<number>, limit: number): Promise<number> => {
    let total = 0;
    for (;;) {
      const n = await once();
      total += n;
      if (n < limit) return total;
    }
  };
  if (db instanceof PostgresLegacyDb) {
    return {
      now: async () => (await db.pool.query<{ now: Date }>(INBOX_CLOCK_SQL.postgres)).rows[0]!.now,
      prune: (rule) =>
        loop(async () => {
          const s = postgresInboxPrune(system.syncSchema, { ...rule, system: system.name });
          return (await db.pool.query(s.text, [...s.values])).rowCount ?? 0;
        }, rule.limit),
    };
  }
  if (db instanceof MssqlLegacyDb) {
    return {
      // SYSUTCDATETIME() comes back as a UTC wall time; the driver reads it as UTC (useUTC default).
      now: async () => (await runMssql<{ now: Date }>(await db.connected(), { text: INBOX_CLOCK_SQL.mssql, params: [] })).rows[0]!.now,
      prune: (rule) => loop(async () => (await runMssql(await db.connected(), mssqlInboxPrune(system.syncSchema, { ...rule, system: system.name }))).rowsAffected, rule.limit),
    };
  }
  throw new Error(`no inbox retention for ${db.dialect} (system ${db.system})`);
}
