import type { TableConfig } from '@sync/config';

export type CaptureOp = 'c' | 'u' | 'd';
export type Row = Record<string, unknown>;

/** One committed change read from a changelog, CDC table or existing log, values normalised. */
export interface CapturedChange {
  readonly op: CaptureOp;
  readonly before: Row | null;
  readonly after: Row | null;
  /** Unique, stable id of this change within the table (changelog row id, LSN + seqval ...). */
  readonly changeId: string;
  /** ISO-8601 time the change was recorded by the database. */
  readonly committedAt: string;
  readonly txId: string | null;
  /** Origin marker the writer set in its session; non-null means the suite wrote it (echo). */
  readonly origin: string | null;
}

/**
 * A changelog row that cannot become an event (undecodable image, unknown operation, ...): the
 * row's own fault, so it is dead-lettered by reference and the entity goes on past it.
 */
export interface RejectedChange {
  readonly changeId: string;
  /** The key as far as it could be read (for the operator); null when unreadable. */
  readonly key: Row | null;
  readonly txId: string | null;
  /** The DataError (or an error whose cause chain holds one). */
  readonly error: unknown;
}

export interface CaptureBatch {
  readonly changes: readonly CapturedChange[];
  /** Rows of this batch rejected as data errors; the position still moves past them. */
  readonly rejected?: readonly RejectedChange[];
  /** Position to resume from after these changes were published. */
  readonly next: string;
  /** True when the read hit its limit: poll again at once. */
  readonly full: boolean;
}

/** A configured column that is gone from the table: the entity must stop with this message. */
export interface SchemaProblem {
  readonly message: string;
}

/**
 * Reads committed changes of one table, below a commit-safe watermark, in the same shape for
 * every dialect and capture mode (trigger changelog, existing changelog, SQL Server CDC).
 * Positions are opaque strings owned by the source; callers store and hand them back.
 */
export interface CaptureSource {
  readonly table: TableConfig;
  /** A position from which everything committed after this call will be read (taken before a snapshot). */
  startPosition(): Promise<string>;
  /** Changes after `position`, at most `limit`, in an order that keeps each key's changes in commit order. */
  readChanges(position: string, limit: number): Promise<CaptureBatch>;
  /** Current rows in key order after `afterKey` (keyset pagination), values normalised. */
  snapshotChunk(afterKey: Row | null, limit: number): Promise<Row[]>;
  /** The current row of one key, values normalised as in snapshotChunk; null when it does not exist. */
  currentRow(key: Row): Promise<Row | null>;
  /** Rows in the table now (an exact count: a scan of the table or of its smallest index). */
  rowCount(): Promise<number>;
  /** Undefined when every configured key and column exists. */
  checkSchema(): Promise<SchemaProblem | undefined>;
  /** Rows recorded but not yet read past `position` (the changelog backlog). */
  backlog(position: string): Promise<number>;
  /** Deletes changelog rows already read before `position` and older than `olderThanMs`, at most `limit`; returns how many. */
  purge(position: string, olderThanMs: number, limit: number): Promise<number>;
  /** Is a saved position still readable? (CDC cleanup can remove it.) Undefined when fine, else why not. */
  positionProblem(position: string): Promise<string | undefined>;
  /**
   * Seconds since the oldest committed change not yet read past `position` was recorded,
   * including one held back behind the watermark by an older open transaction; 0 when there is
   * none. Optional: sources without it report lag only from the changes they read.
   */
  pendingAgeSeconds?(position: string): Promise<number>;
  /**
   * Everything before `position` is published and the position saved: a source that holds data
   * for the reader (a replication slot) may release it. Optional: changelog sources keep rows by retention.
   */
  acknowledge?(position: string): void;
  /** Calls `listener` when new changes arrive (a stream): the reader polls at once instead of waiting. */
  onChanges?(listener: () => void): void;
  /** The replication slot's lag (logical decoding); sources without a slot lack it. */
  replicationLag?(): Promise<ReplicationLag>;
  /**
   * The table's loop stopped (its lease moved to another replica, or the app stops): a stream held
   * for it may end, so the replica taking over can attach (a replication slot serves one connection).
   */
  release?(): void;
}

/** How far a replication slot is behind (logical decoding). */
export interface ReplicationLag {
  readonly slot: string;
  /** WAL bytes written since the slot's confirmed (acknowledged) position. */
  readonly bytes: number;
  /** Seconds since the commit of the oldest change received and not yet acknowledged; 0 when none. */
  readonly seconds: number;
  /** WAL bytes the slot keeps on the server. */
  readonly retainedBytes: number;
  /** Bytes that can still be written before max_slot_wal_keep_size invalidates the slot; null when unlimited. */
  readonly safeBytes: number | null;
  /** pg_replication_slots.wal_status: reserved, extended, unreserved, lost. */
  readonly walStatus: string | null;
}

/** Creates the capture source for one table. */
export interface CaptureSourceFactory {
  create(table: TableConfig): CaptureSource;
}
