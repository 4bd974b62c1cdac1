import { cleanText, type Row } from '@sync/contracts';

// A legacy key as stored in the key map: one JSON text of its column values in key order. Numbers,
// big integers sent as strings and booleans all become strings, so `42` from a change event and
// `"42"` from a driver that returns bigint as text name the same row.

function scalarText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Canonical text of `row`'s values for `columns` (in that order); undefined when one is null or missing. */
export function canonicalKey(columns: readonly string[], row: Row): string | undefined {
  const parts: string[] = [];
  for (const column of columns) {
    const text = scalarText(row[column]);
    if (text === null) return undefined;
    // Key text goes into the key map (text and jsonb columns): PostgreSQL refuses NUL there.
    parts.push(cleanText(`key column ${column}`, text));
  }
  return JSON.stringify(parts);
}

/** The key columns of `row` as an object in key order (what resolved.* commands carry). */
export function keyValues(columns: readonly string[], row: Row): Row {
  const out: Row = {};
  for (const column of columns) out[column] = row[column];
  return out;
}

/**
 * Canonical text of a natural key for merging: strings are trimmed and lower-cased (e-mail addresses
 * differ in case between systems); undefined when a value is null or blank.
 */
export function canonicalNaturalKey(columns: readonly string[], row: Row): string | undefined {
  const parts: string[] = [];
  for (const column of columns) {
    const text = scalarText(row[column]);
    if (text === null) return undefined;
    cleanText(`natural key column ${column}`, text);
    const normal = text.trim().toLowerCase();
    if (normal.length === 0) return undefined;
    parts.push(normal);
  }
  return JSON.stringify(parts);
}
