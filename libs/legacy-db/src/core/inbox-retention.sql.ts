import { quoteIdent } from '@sync/config';
import { qi, type MssqlStatement } from '../mssql/mssql-statement';
import { INBOX_TABLE, PARKED_TABLE } from './inbox.ddl';

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

export interface PgStatementText {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** The database's clock: horizons and applied_at come from the same clock. */
export const INBOX_CLOCK_SQL = {
  postgres: 'SELECT clock_timestamp() AS now',
  mssql: 'SELECT SYSUTCDATETIME() AS now',
} as const;

export function postgresInboxPrune(syncSchema: string, rule: InboxPruneRule): PgStatementText {
  const inbox = `${quoteIdent('postgres', syncSchema)}.${quoteIdent('postgres', INBOX_TABLE)}`;
  const parked = `${quoteIdent('postgres', syncSchema)}.${quoteIdent('postgres', PARKED_TABLE)}`;
  // ctid addresses the physical row, so the delete needs no key column.
  const text = `DELETE FROM ${inbox} WHERE ctid IN (
  SELECT r.ctid FROM (
    SELECT i.ctid, i."applied_at", row_number() OVER (ORDER BY i."applied_at" DESC) AS rn
    FROM ${inbox} AS i
    WHERE i."system" = $1 AND i."schema_name" = $2 AND i."table_name" = $3
  ) AS r
  WHERE r."applied_at" < $4
    AND NOT EXISTS (SELECT 1 FROM ${parked} AS p WHERE p."system" = $1 AND p."schema_name" = $2 AND p."table_name" = $3 AND p."parked_at" <= r."applied_at")
    AND (($5::timestamptz IS NOT NULL AND r."applied_at" < $5::timestamptz) OR ($6::bigint IS NOT NULL AND r.rn > $6::bigint))
  LIMIT $7
)`;
  return { text, values: [rule.system, rule.schema, rule.table, rule.horizon, rule.olderThan ?? null, rule.keepNewest ?? null, rule.limit] };
}

export function mssqlInboxPrune(syncSchema: string, rule: InboxPruneRule): MssqlStatement {
  const inbox = `${qi(syncSchema)}.${qi(INBOX_TABLE)}`;
  const parked = `${qi(syncSchema)}.${qi(PARKED_TABLE)}`;
  // A CTE over one table is updatable: deleting from it deletes the inbox rows, no key column named.
  const text = `WITH ranked AS (
  SELECT [applied_at], ROW_NUMBER() OVER (ORDER BY [applied_at] DESC) AS rn
  FROM ${inbox}
  WHERE [system] = @system AND [schema_name] = @schema AND [table_name] = @table
), doomed AS (
  SELECT TOP (@limit) [applied_at] FROM ranked
  WHERE [applied_at] < CONVERT(datetime2, @horizon, 126)
    AND NOT EXISTS (SELECT 1 FROM ${parked} AS p WHERE p.[system] = @system AND p.[schema_name] = @schema AND p.[table_name] = @table AND p.[parked_at] <= ranked.[applied_at])
    AND ((@olderThan IS NOT NULL AND [applied_at] < CONVERT(datetime2, @olderThan, 126)) OR (@keepNewest IS NOT NULL AND rn > @keepNewest))
)
DELETE FROM doomed`;
  const iso = (d: Date | undefined): string | null => (d === undefined ? null : d.toISOString().replace('Z', ''));
  return {
    text,
    params: [
      { name: 'system', type: 'nvarchar', value: rule.system },
      { name: 'schema', type: 'nvarchar', value: rule.schema },
      { name: 'table', type: 'nvarchar', value: rule.table },
      { name: 'horizon', type: 'nvarchar', value: iso(rule.horizon) },
      { name: 'olderThan', type: 'nvarchar', value: iso(rule.olderThan) },
      { name: 'keepNewest', type: 'bigint', value: rule.keepNewest ?? null },
      { name: 'limit', type: 'int', value: rule.limit },
    ],
  };
}
