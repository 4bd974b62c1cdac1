import { quoteIdent } from '@sync/config';
import { INBOX_TABLE, PARKED_TABLE } from '../core/inbox-names';
import type { InboxPruneRule } from '../core/inbox-retention';

export interface PgStatementText {
  readonly text: string;
  readonly values: readonly unknown[];
}

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

