import type { TableConfig } from '@sync/config';

/** Columns the pipeline relies on for a table: its key, the listed columns and foreign-key columns. */
export function requiredColumns(table: TableConfig): string[] {
  return [...new Set([...table.key, ...(table.columns ?? []), ...table.foreignKeys.flatMap((fk) => fk.columns)])];
}

export function missingColumnsMessage(table: TableConfig, missing: readonly string[]): string {
  const list = missing.map((c) => `"${c}"`).join(', ');
  return `${table.system}.${table.schema}.${table.name}: configured column${missing.length > 1 ? 's' : ''} ${list} no longer exist${missing.length > 1 ? '' : 's'} in the table; fix the table or the pipeline file, then resume the entity`;
}
