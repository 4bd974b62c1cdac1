import type { TableConfig } from '@sync/config';
import { SinkError } from './sink-error';
import type { SinkCommand } from './writeback-sink.interface';

/** Key of a table in a sink's metadata cache. */
export function metaId(table: TableConfig): string {
  return `${table.schema}.${table.name}`;
}

/**
 * Fails as `schema` when commands name columns the table's metadata does not list. Only columns
 * configured for sync get here (validateCommand dead-letters the others first), so a missing one
 * means the legacy table and the pipeline disagree: a column not added yet, or dropped.
 */
export function assertKnownColumns(table: TableConfig, commands: readonly SinkCommand[], known: (column: string) => boolean): void {
  const missing = new Set<string>();
  let first: string | undefined;
  for (const c of commands) {
    for (const column of Object.keys(c.columns)) {
      if (known(column)) continue;
      missing.add(column);
      first ??= c.commandId;
    }
  }
  if (missing.size === 0) return;
  throw new SinkError(
    'schema',
    `${table.system}.${table.schema}.${table.name} has no column(s) ${[...missing].join(', ')} that command ${first!} writes (configured for sync): add them to the legacy table, or take them out of the mapping/pipeline`,
  );
}

/**
 * Runs `attempt`; on a schema error, forgets the cached metadata once (`forget`) and runs it again,
 * so a table changed since its metadata was read (column added, dropped, retyped) is seen afresh.
 * A schema error that persists is thrown.
 */
export async function withMetadataRefresh<T>(forget: () => void, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (err) {
    if (!(err instanceof SinkError) || err.kind !== 'schema') throw err;
    forget();
    return attempt();
  }
}
