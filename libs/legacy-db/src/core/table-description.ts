import type { ValueKind } from './value-normalizer';

/** A legacy table as its database describes it (for `sync-ctl validate --db`). */
export interface TableDescription {
  /** Columns in table order, with the database's type name and how the suite represents its values. */
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string; readonly kind: ValueKind }>;
  /** Column lists of the primary key and of every unique index or constraint, in key order. */
  readonly uniqueKeys: ReadonlyArray<{ readonly primary: boolean; readonly columns: readonly string[] }>;
}

