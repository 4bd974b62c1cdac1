import type { TableConfig } from '@sync/config';
import type { Row } from '../core/capture-source.interface';
import { SinkError } from '../core/sink-error';
import { foldRun, keyString, type KeyedCommand } from '../core/writeback-plan';

/**
 * How the SQL Server sink writes commands that carry a key:
 * - `merge`: no IDENTITY column in the key: MERGE inserts missing rows with the given key;
 * - `identity-insert`: IDENTITY key and `identityInsert: true`: the same MERGE under SET IDENTITY_INSERT;
 * - `update-existing`: IDENTITY key without the flag: SQL Server owns the values, so a command can
 *   only update an existing row; one that would insert is poison (`explicitIdentityInsert`).
 */
export type MssqlKeyedWrite = 'merge' | 'identity-insert' | 'update-existing';

/**
 * `identityColumn`: the table's IDENTITY column from the catalog (a table has at most one),
 * compared with the key case-insensitively as SQL Server names are.
 */
export function mssqlKeyedWrite(table: TableConfig, identityColumn: string | undefined): MssqlKeyedWrite {
  if (identityColumn === undefined || !table.key.some((k) => k.toLowerCase() === identityColumn.toLowerCase())) return 'merge';
  return table.identityInsert ? 'identity-insert' : 'update-existing';
}

/**
 * For `update-existing`: the poison error of the first command that would insert a row with an
 * explicit identity value, or undefined. Replays the runs in order from the rows that exist
 * (`existing`, as `keyString`s): a delete removes a row, an upsert of a missing row would insert it.
 */
export function explicitIdentityInsert(
  table: TableConfig,
  identityColumn: string,
  runs: ReadonlyArray<readonly KeyedCommand[]>,
  existing: ReadonlySet<string>,
): SinkError | undefined {
  const present = new Set(existing);
  for (const run of runs) {
    const folded = foldRun(table, run);
    for (const key of folded.deletes) present.delete(keyString(table, key));
    for (const upsert of folded.upserts) {
      const id = keyString(table, upsert.key);
      if (!upsert.afterDelete && present.has(id)) continue;
      const command = [...run].reverse().find((c) => c.command.op === 'upsert' && keyString(table, c.key) === id)!.command;
      return new SinkError(
        'data',
        `command ${command.commandId}: ${table.system}.${table.schema}.${table.name} has no row with key ${describeKey(table, upsert.key)}, ` +
          `and ${identityColumn} is an IDENTITY column, so SQL Server generates its values: send the insert without a key (generatedKey: true), ` +
          'or set identityInsert: true on the table to insert explicit keys (SET IDENTITY_INSERT, needs ALTER permission)',
      );
    }
  }
  return undefined;
}

function describeKey(table: TableConfig, key: Row): string {
  return `(${table.key.join(', ')}) = (${table.key.map((k) => JSON.stringify(key[k])).join(', ')})`;
}
