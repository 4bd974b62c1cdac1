import { createHash } from 'node:crypto';
import { quoteIdent, type TableConfig } from '@sync/config';

/** PostgreSQL truncates names past 63 bytes; SQL Server allows 128 characters. */
const MAX_NAME = 60;

function fit(name: string): string {
  if (Buffer.byteLength(name) <= MAX_NAME) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${Buffer.from(name).subarray(0, MAX_NAME - 9).toString()}_${hash}`;
}

function base(table: TableConfig): string {
  return `${table.schema}_${table.name}`.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Names of the objects the trigger capture mode generates for one table, in the sync schema. */
export interface ChangelogNames {
  readonly table: string;
  readonly captureFunction: string;
  readonly trigger: string;
  readonly txIndex: string;
  /** Partial index of legacy changes by key, for the write-back's conflict check. */
  readonly conflictIndex: string;
}

export function changelogNames(table: TableConfig): ChangelogNames {
  const b = base(table);
  const changelog = table.capture.mode === 'trigger' && table.capture.changelogTable ? table.capture.changelogTable : fit(`${b}_changes`);
  return {
    table: changelog,
    captureFunction: fit(`${b}_capture`),
    trigger: 'sync_capture',
    txIndex: fit(`${changelog}_tx`),
    conflictIndex: fit(`${changelog}_legacy_key`),
  };
}

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
