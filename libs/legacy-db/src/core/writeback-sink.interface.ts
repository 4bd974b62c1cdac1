import type { ConflictPolicy, TableConfig } from '@sync/config';
import type { Row } from './capture-source.interface';

/** One row command as the sink applies it (the fields of a resolved.* WritebackCommand it needs). */
export interface SinkCommand {
  readonly commandId: string;
  readonly op: 'upsert' | 'delete';
  readonly globalId: string;
  /** Legacy key; empty for an insert whose key the database generates. */
  readonly key: Row;
  /** The row moves from `key` to this key first (the new side changed a legacy primary key). */
  readonly newKey?: Row;
  /** Columns to write; an upsert of an existing row updates only these. */
  readonly columns: Row;
  readonly occurredAt: string;
  /** Changelog position (the changelog `id`) of the last legacy change of this row the new side saw. */
  readonly basedOn?: string;
  readonly origin: string;
}

/** The legacy change that conflicted with a command, as read from the trigger changelog. */
export interface LegacyVersion {
  readonly position: string;
  readonly op: 'c' | 'u' | 'd';
  readonly changedAt: string;
  /** Row image after the legacy change (null when the legacy side deleted the row). */
  readonly row: Row | null;
}

/** A command whose row the legacy side changed after the change the command is based on. */
export interface SinkConflict {
  readonly policy: ConflictPolicy;
  /** What the policy decided: the command was written (`applied`) or dropped (`skipped`). */
  readonly resolution: 'applied' | 'skipped';
  readonly legacy: LegacyVersion;
}

export type SinkOutcome = 'applied' | 'skipped-conflict' | 'duplicate';

/** What happened to one command; `key` is the generated key for inserts into generated-key tables. */
export interface SinkResult {
  readonly commandId: string;
  readonly outcome: SinkOutcome;
  readonly key?: Row;
  readonly conflict?: SinkConflict;
  /** For duplicates: the outcome recorded when the command was first applied. */
  readonly recordedOutcome?: Exclude<SinkOutcome, 'duplicate'>;
}

/**
 * Applies write-back commands to one legacy database: a batch of one table in one transaction,
 * recorded in the inbox, with the origin marker set for echo suppression. Throws SinkError.
 */
/** A command waiting in the parked table. */
export interface ParkedCommand {
  readonly commandId: string;
  readonly reason: string;
  readonly command: SinkCommand;
  /** When it was first parked. */
  readonly parkedAt: Date;
}

export interface WritebackSink {
  readonly system: string;
  applyBatch(table: TableConfig, commands: readonly SinkCommand[]): Promise<SinkResult[]>;
  /** Records a command that cannot be applied yet (foreign-key target missing) in the parked table. */
  park(table: TableConfig, command: SinkCommand, reason: string): Promise<void>;
  /** Parked commands of a table, oldest first. */
  parked(table: TableConfig): Promise<ParkedCommand[]>;
  /** Removes released (applied or dead-lettered) commands from the parked table. */
  unpark(table: TableConfig, commandIds: readonly string[]): Promise<void>;
}
