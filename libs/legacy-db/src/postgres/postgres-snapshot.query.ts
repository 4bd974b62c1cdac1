import { quoteIdent, type TableConfig } from '@sync/config';
import type { Row } from '../core/capture-source.interface';
import { normaliseValue, parseExactJson, valueKind } from '../core/value-normalizer';

const q = (name: string): string => quoteIdent('postgres', name);

/** A column of the table as information_schema.columns names it (udt_name: the base type of a domain). */
export interface PostgresColumn {
  readonly name: string;
  readonly udtName: string;
}

/**
 * How a column is selected for a snapshot chunk and turned into the value the row image
 * (`to_jsonb(t.*)`, normalised) would hold, so both reads give the same rows:
 *   raw    the column's own text: to_jsonb renders these types as their text (strings) or as JSON
 *          numbers with the same digits (numbers) or true/false (bool);
 *   text   `to_jsonb(col) #>> '{}'`: the JSON string to_jsonb gives (date and time types, ISO-8601);
 *   json   `to_jsonb(col)::text`, parsed exactly: everything else (json, arrays, composites, ...).
 */
type Selection = 'raw' | 'text' | 'json';

const RAW_TYPES = new Set(['int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'bool', 'text', 'varchar', 'bpchar', 'uuid', 'bytea']);
const TEXT_TYPES = new Set(['timestamptz', 'timestamp', 'date']);

function selection(udtName: string): Selection {
  if (RAW_TYPES.has(udtName)) return 'raw';
  if (TEXT_TYPES.has(udtName)) return 'text';
  return 'json';
}

/** One value as the driver hands it over with every type parser off: text, or null. */
type Cell = string | null;

function converter(column: PostgresColumn): (cell: Cell) => unknown {
  const kind = valueKind('postgres', column.udtName);
  switch (selection(column.udtName)) {
    case 'raw':
      // Text is what a lossless JSON number or string of the same column yields before normalising.
      if (kind === 'bool') return (cell) => (cell === null ? null : cell === 't');
      // jsonb has no negative zero: float -0 in the row image is 0.
      if (kind === 'float') return (cell) => (cell === null ? null : Number(cell) || (Number.isNaN(Number(cell)) ? NaN : 0));
      return (cell) => (cell === null ? null : normaliseValue(cell, kind, 'postgres'));
    case 'text':
      return (cell) => cell;
    case 'json':
      return (cell) => (cell === null ? null : normaliseValue(parseExactJson(cell), kind, 'postgres'));
  }
}

/** The statement and row decoder of a keyset snapshot chunk, as pure functions of the table and its columns. */
export interface SnapshotChunkQuery {
  /** Parameters: the key values after which to read (when `afterKey` is given), then the limit. */
  readonly text: string;
  readonly values: unknown[];
  /** The columns the table had when the chunk was read (an InitPlan count, compared by the caller). */
  readonly columnCountAt: number;
  decode(cells: readonly Cell[]): Row;
}

/**
 * Keyset pagination in key order, the columns selected one by one (no row image to build and parse):
 * rows whose key is greater than `afterKey`, at most `limit`. The last cell is the number of columns
 * the table has now, so a column added since `columns` was read is noticed and the chunk read again.
 */
export function snapshotChunkQuery(table: TableConfig, qualifiedName: string, columns: readonly PostgresColumn[], afterKey: Row | null, limit: number): SnapshotChunkQuery {
  const keyCols = table.key.map(q).join(', ');
  const values: unknown[] = [];
  let where = '';
  if (afterKey) {
    const placeholders = table.key.map((k) => {
      values.push(afterKey[k]);
      return `$${values.length}`;
    });
    where = ` WHERE (${keyCols}) > (${placeholders.join(', ')})`;
  }
  values.push(limit);
  // The row image's key order, so that events carry the same bytes whichever read made them.
  const ordered = jsonbKeyOrder(columns);
  const list = ordered.map((c) => {
    const col = `t.${q(c.name)}`;
    switch (selection(c.udtName)) {
      case 'raw':
        return col;
      case 'text':
        return `to_jsonb(${col}) #>> '{}'`;
      case 'json':
        return `to_jsonb(${col})::text`;
    }
  });
  const count = `(SELECT count(*) FROM pg_attribute WHERE attrelid = '${qualifiedName.replace(/'/g, "''")}'::regclass AND attnum > 0 AND NOT attisdropped)::int4`;
  const decoders = ordered.map(converter);
  const names = ordered.map((c) => c.name);
  return {
    text: `SELECT ${[...list, count].join(', ')} FROM ${qualifiedName} t${where} ORDER BY ${keyCols} LIMIT $${values.length}`,
    values,
    columnCountAt: columns.length,
    decode(cells) {
      const row: Row = {};
      for (let i = 0; i < decoders.length; i++) row[names[i]!] = decoders[i]!(cells[i] ?? null);
      return row;
    },
  };
}

/** Columns in the order jsonb keeps an object's keys: shorter names (in UTF-8 bytes) first, then bytewise. */
export function jsonbKeyOrder(columns: readonly PostgresColumn[]): PostgresColumn[] {
  const bytes = new Map(columns.map((c) => [c.name, Buffer.from(c.name, 'utf8')]));
  return [...columns].sort((a, b) => {
    const x = bytes.get(a.name)!;
    const y = bytes.get(b.name)!;
    return x.length - y.length || Buffer.compare(x, y);
  });
}

/** The table's column count as the chunk's last cell reports it. */
export function columnCountOf(cells: readonly Cell[]): number {
  return Number(cells[cells.length - 1]);
}
