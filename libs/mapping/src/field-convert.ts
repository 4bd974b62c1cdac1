import type { FieldType } from './mapping.types';

/** Converts `value` to `type`, keeping null as null; throws an Error saying why it cannot. */
export function convertField(value: unknown, type: FieldType | undefined): unknown {
  if (value === undefined || value === null || type === undefined) return value;
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
      throw new Error(`cannot convert ${describe(value)} to a string`);
    case 'number':
    case 'integer': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n)) throw new Error(`cannot convert ${describe(value)} to a number`);
      if (type === 'integer' && !Number.isInteger(n)) throw new Error(`${describe(value)} is not an integer`);
      return n;
    }
    case 'boolean':
      return toBoolean(value);
    case 'date':
      return toIsoTimestamp(value);
    case 'json':
      if (typeof value !== 'string') return value;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        throw new Error(`${describe(value)} is not valid JSON`);
      }
  }
}

// ISO-8601 date or date-time: day, optional time, optional fraction, optional offset.
const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * `type: date`: an ISO-8601 UTC timestamp. A conversion never loses precision silently: the
 * fraction of a second is kept to the digit (PostgreSQL timestamps have microseconds, SQL Server
 * datetime2 100 ns: `2026-01-01T10:00:00.123456Z`), milliseconds at least; a fractional epoch
 * millisecond number is an error (the message is dead-lettered naming the field; use type: number
 * or string). A date-time without an offset is UTC, not the process's local time zone.
 */
function toIsoTimestamp(value: unknown): string {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`${describe(value)} has a fraction of a millisecond: type date would drop it (use type: number or string)`);
    const d = new Date(value);
    if (Number.isNaN(d.getTime())) throw new Error(`cannot convert ${describe(value)} to a date`);
    return d.toISOString();
  }
  if (typeof value !== 'string') throw new Error(`cannot convert ${describe(value)} to a date`);
  const iso = ISO.exec(value.trim());
  let text = value;
  let subMillis = '';
  if (iso !== null) {
    const [, day, time, fraction, offset] = iso;
    // Date keeps milliseconds: the digits below them are put back after the conversion to UTC.
    subMillis = (fraction ?? '').slice(3).replace(/0+$/, '');
    text = time === undefined ? day! : `${day}T${time}${fraction === undefined ? '' : `.${fraction.slice(0, 3)}`}${offset ?? 'Z'}`;
  }
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new Error(`cannot convert ${describe(value)} to a date`);
  const utc = d.toISOString();
  return subMillis === '' ? utc : `${utc.slice(0, -1)}${subMillis}Z`;
}

// Legacy schemas store flags as bit/char columns: 1/0, 'Y'/'N', 'true'/'false'.
const TRUE = new Set(['1', 'true', 't', 'y', 'yes']);
const FALSE = new Set(['0', 'false', 'f', 'n', 'no']);

function toBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && (value === 0 || value === 1)) return value === 1;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
  }
  throw new Error(`cannot convert ${describe(value)} to a boolean`);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
