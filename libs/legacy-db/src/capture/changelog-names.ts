import { createHash } from 'node:crypto';
import type { TableConfig } from '@sync/config';

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
}

export function changelogNames(table: TableConfig): ChangelogNames {
  const b = base(table);
  const changelog = table.capture.mode === 'trigger' && table.capture.changelogTable ? table.capture.changelogTable : fit(`${b}_changes`);
  return {
    table: changelog,
    captureFunction: fit(`${b}_capture`),
    trigger: 'sync_capture',
    txIndex: fit(`${changelog}_tx`),
  };
}

/** Channel the PostgreSQL triggers notify on; the payload is "<schema>.<table>". */
export const NOTIFY_CHANNEL = 'sync_changes';
