import type { ValueKind } from './value-normalizer';

/** A legacy table as its database describes it (for `sync-ctl validate --db`). */
export interface TableDescription {
  /** Columns in table order, with the database's type name and how the suite represents its values. */
  readonly columns: ReadonlyArray<DescribedColumn>;
  /** Column lists of the primary key and of every unique index or constraint, in key order. */
  readonly uniqueKeys: ReadonlyArray<{ readonly primary: boolean; readonly columns: readonly string[] }>;
  /** The database's own name (Debezium's `source.db`). */
  readonly database: string;
}


export interface DescribedColumn {
  readonly name: string;
  readonly type: string;
  readonly kind: ValueKind;
  readonly nullable: boolean;
  /** numeric/decimal precision; null when unconstrained or not a decimal type. */
  readonly precision: number | null;
  /** numeric/decimal scale, or the fractional-second digits of a date/time type; null when none. */
  readonly scale: number | null;
}
