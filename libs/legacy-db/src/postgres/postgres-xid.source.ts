import type { Pool } from 'pg';
import type { TableConfig } from '@sync/config';
import type { CaptureBatch, CaptureSource, Row, SchemaProblem } from '../core/capture-source.interface';
import { PostgresTableCatalog } from './postgres-table.catalog';
import { currentXmin, decodeXidPosition, encodeXidPosition } from './postgres-xid-window';

/** What every PostgreSQL changelog source shares: xid-window positions, snapshots and schema checks from the catalog. */
export abstract class PostgresXidSource implements CaptureSource {
  protected readonly catalog: PostgresTableCatalog;

  constructor(protected readonly pool: Pool, readonly table: TableConfig) {
    this.catalog = new PostgresTableCatalog(pool, table);
  }

  abstract readChanges(position: string, limit: number): Promise<CaptureBatch>;
  abstract backlog(position: string): Promise<number>;
  abstract purge(position: string, olderThanMs: number, limit: number): Promise<number>;

  async startPosition(): Promise<string> {
    return encodeXidPosition({ lo: await currentXmin(this.pool), hi: null, after: null });
  }

  snapshotChunk(afterKey: Row | null, limit: number): Promise<Row[]> {
    return this.catalog.snapshotChunk(afterKey, limit);
  }

  currentRow(key: Row): Promise<Row | null> {
    return this.catalog.currentRow(key);
  }

  rowCount(): Promise<number> {
    return this.catalog.rowCount();
  }

  checkSchema(): Promise<SchemaProblem | undefined> {
    return this.catalog.checkSchema();
  }

  async positionProblem(position: string): Promise<string | undefined> {
    try {
      decodeXidPosition(position);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }
}
