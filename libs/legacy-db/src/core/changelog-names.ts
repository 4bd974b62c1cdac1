import { quoteIdent, type TableConfig } from '@sync/config';

// The derivation itself lives in @sync/config, so the load-time collision check uses the same one.
export { changelogNames, type ChangelogNames } from '@sync/config';

/** Channel the PostgreSQL triggers notify on; the payload is "<schema>.<table>". */
export const NOTIFY_CHANNEL = 'sync_changes';

/**
 * Transaction-local setting by which a writer says it records its own changes of one table in
 * the changelog (set-based, in the same statement), so that table's row trigger stays silent.
 * The value names the table (`"schema"."table"`): cascaded writes into other captured tables
 * are still recorded by their own triggers.
 */
export const SELF_LOGGED_SETTING = 'sync.self_logged';

export function selfLoggedValue(table: TableConfig): string {
  return `${quoteIdent('postgres', table.schema)}.${quoteIdent('postgres', table.name)}`;
}
