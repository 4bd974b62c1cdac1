import { isLosslessNumber, parse as parseLossless, type LosslessNumber } from 'lossless-json';
import { DataError } from '@sync/errors';
import type { Dialect } from './legacy-db.interface';
import type { Row } from './capture-source.interface';

export type ValueKind = 'decimal' | 'int' | 'bigint' | 'float' | 'bool' | 'binary' | 'timestamptz' | 'timestamp' | 'date' | 'json' | 'text';

const PG_KINDS: Record<string, ValueKind> = {
  numeric: 'decimal', money: 'decimal',
  int2: 'int', int4: 'int', smallint: 'int', integer: 'int',
  int8: 'bigint', bigint: 'bigint',
  float4: 'float', float8: 'float', real: 'float', 'double precision': 'float',
  bool: 'bool', boolean: 'bool',
  bytea: 'binary',
  timestamptz: 'timestamptz', 'timestamp with time zone': 'timestamptz',
  timestamp: 'timestamp', 'timestamp without time zone': 'timestamp',
  date: 'date',
  json: 'json', jsonb: 'json',
};

const MSSQL_KINDS: Record<string, ValueKind> = {
  decimal: 'decimal', numeric: 'decimal', money: 'decimal', smallmoney: 'decimal',
  tinyint: 'int', smallint: 'int', int: 'int',
  bigint: 'bigint',
  real: 'float', float: 'float',
  bit: 'bool',
  binary: 'binary', varbinary: 'binary', image: 'binary', timestamp: 'binary', rowversion: 'binary',
  datetimeoffset: 'timestamptz',
  datetime: 'timestamp', datetime2: 'timestamp', smalldatetime: 'timestamp',
  date: 'date',
};

/** How a column's values are represented in events, from its database type name. */
export function valueKind(dialect: Dialect, typeName: string): ValueKind {
  const t = typeName.toLowerCase();
  return (dialect === 'postgres' ? PG_KINDS[t] : MSSQL_KINDS[t]) ?? 'text';
}

/** Parses JSON keeping every number's exact digits (decimals must not pass through a double). */
export function parseExactJson(text: string): unknown {
  try {
    return parseLossless(text);
  } catch (err) {
    // The stored text itself is broken: no retry can read it.
    throw new DataError(`undecodable JSON row image: ${(err as Error).message}`, { cause: err });
  }
}

/** Text of a scalar read from exact JSON (a lossless number's digits, a string as is). */
export function scalarText(value: unknown): string {
  return numberText(value) ?? String(value);
}

function numberText(value: unknown): string | undefined {
  if (isLosslessNumber(value)) return (value as LosslessNumber).value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return value;
  return undefined;
}

function toBase64(value: unknown, dialect: Dialect): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value !== 'string') return value;
  // PostgreSQL's to_jsonb(bytea) is hex with a \x prefix; SQL Server's FOR JSON is base64 already.
  if (dialect === 'postgres' && value.startsWith('\\x')) return Buffer.from(value.slice(2), 'hex').toString('base64');
  return value;
}

/** One value of a row image (parsed exactly) as events carry it, by its column's kind. */
export function normaliseValue(value: unknown, kind: ValueKind, dialect: Dialect): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'decimal':
      return numberText(value) ?? String(value);
    case 'int':
    case 'float': {
      const text = numberText(value);
      return text === undefined ? value : Number(text);
    }
    case 'bigint': {
      const text = numberText(value);
      if (text === undefined) return value;
      const n = Number(text);
      // Beyond 2^53 a JS number would round: keep the exact digits as a string.
      return Number.isSafeInteger(n) ? n : text;
    }
    case 'bool':
      return typeof value === 'boolean' ? value : value === 1 || value === '1' || (isLosslessNumber(value) && (value as LosslessNumber).value === '1');
    case 'binary':
      return toBase64(value, dialect);
    case 'timestamptz':
      return value instanceof Date ? value.toISOString() : value;
    case 'timestamp':
    case 'date':
      return value instanceof Date ? value.toISOString().replace(/Z$/, '') : value;
    case 'json':
      return losslessToPlain(value);
    case 'text':
      return isLosslessNumber(value) ? (value as LosslessNumber).value : value;
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** Turns lossless numbers nested in JSON columns into plain numbers (or strings when unsafe). */
function losslessToPlain(value: unknown): unknown {
  if (isLosslessNumber(value)) {
    const text = (value as LosslessNumber).value;
    const n = Number(text);
    return String(n) === text || Number.isSafeInteger(n) ? n : text;
  }
  if (Array.isArray(value)) return value.map(losslessToPlain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, losslessToPlain(v)]));
  }
  return value;
}

/**
 * Normalises a row image: decimals as exact strings, big integers beyond 2^53 as strings,
 * binary as base64, timestamps with time zone as ISO-8601 with offset, NULL kept apart from ''.
 * Columns with no known type (added since the catalog was read) pass through as plain JSON.
 */
export function normaliseRow(row: Row, kinds: ReadonlyMap<string, ValueKind>, dialect: Dialect): Row {
  const out: Row = {};
  for (const [column, value] of Object.entries(row)) {
    const kind = kinds.get(column);
    out[column] = kind ? normaliseValue(value, kind, dialect) : losslessToPlain(value);
  }
  return out;
}
