import { parseExactJson, type ValueKind } from '../core/value-normalizer';
import type { Row } from '../core/capture-source.interface';

/**
 * A pgoutput text value as the trigger mode's `to_jsonb` image would hold it, so both modes emit
 * the same event values: booleans and JSON parsed, timestamps in ISO-8601 form with a `T` and a
 * `+hh:mm` offset, everything else as text (numbers are normalised from text by normaliseRow).
 * Arrays, ranges and composite values stay in PostgreSQL's text form (to_jsonb would nest them).
 */
export function jsonLikeValue(text: string | null, kind: ValueKind | undefined): unknown {
  if (text === null) return null;
  switch (kind) {
    case 'bool':
      return text === 't';
    case 'json':
      return parseExactJson(text);
    case 'timestamp':
    case 'timestamptz': {
      const iso = text.replace(/^(\d{4,}-\d\d-\d\d) (\d)/, '$1T$2');
      return /[+-]\d\d$/.test(iso) ? `${iso}:00` : iso;
    }
    case 'decimal':
    case 'int':
    case 'bigint':
    case 'float':
    case 'binary':
    case 'date':
    case 'text':
    case undefined:
      return text;
    default: {
      const never: never = kind;
      return never;
    }
  }
}

export function jsonLikeRow(values: Record<string, string | null>, kinds: ReadonlyMap<string, ValueKind>): Row {
  const out: Row = {};
  for (const [column, text] of Object.entries(values)) out[column] = jsonLikeValue(text, kinds.get(column));
  return out;
}
