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
    case 'date': {
      const d = typeof value === 'number' ? new Date(value) : typeof value === 'string' ? new Date(value) : undefined;
      if (d === undefined || Number.isNaN(d.getTime())) throw new Error(`cannot convert ${describe(value)} to a date`);
      return d.toISOString();
    }
    case 'json':
      if (typeof value !== 'string') return value;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        throw new Error(`${describe(value)} is not valid JSON`);
      }
  }
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
