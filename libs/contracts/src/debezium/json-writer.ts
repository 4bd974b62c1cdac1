/**
 * JSON.stringify, except that a bigint is written as its bare digits (an int64 beyond 2^53, as
 * the JsonConverter writes a Java long) and a `RawJson` is inserted as is (cached schema text).
 */
export class RawJson {
  constructor(readonly text: string) {}
}

export function writeJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof RawJson) return value.text;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(writeJson).join(',')}]`;
  let out = '{';
  let first = true;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${writeJson(v)}`;
    first = false;
  }
  return `${out}}`;
}
