import { INBOX_TABLE, PARKED_TABLE } from '../core/inbox-names';
import type { InboxPruneRule } from '../core/inbox-retention';
import { qi, type MssqlStatement } from './mssql-statement';

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
