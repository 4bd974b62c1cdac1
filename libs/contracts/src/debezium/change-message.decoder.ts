import { parse as parseLossless } from 'lossless-json';
import { ContractError } from '../contract-error';
import { parseChangeEvent, type ChangeEvent, type Row } from '../change-event';
import type { HeaderMap } from '../headers';
import { semanticOfSchema, semanticOfTag, type ColumnSemantic } from './connect-schema';
import { fromDebeziumValue } from './debezium-values';

/**
 * Headers a legacy.* record carries in Debezium mode: what the native envelope's own source
 * fields held and Debezium's source block has no place for.
 */
export const ChangeHeaders = {
  /** The suite's position of the change (source.position of the native envelope). */
  position: 'sync-position',
  /** ISO-8601 commit time as the database gave it (source.committedAt). */
  committedAt: 'sync-committed-at',
  /** The capture's transaction id as text (source.txId), absent when unknown. */
  txId: 'sync-tx-id',
  /** schemas.enable=false only: `{column: tag}` of the columns whose values need decoding. */
  columns: 'sync-columns',
} as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function semanticsFromSchema(schema: unknown): Map<string, ColumnSemantic> {
  const out = new Map<string, ColumnSemantic>();
  if (!isObject(schema) || !Array.isArray(schema['fields'])) throw new ContractError('schema: a Debezium envelope schema must be a struct');
  const image = (schema['fields'] as unknown[]).find((f) => isObject(f) && (f['field'] === 'after' || f['field'] === 'before'));
  if (!isObject(image) || !Array.isArray(image['fields'])) return out;
  for (const f of image['fields'] as unknown[]) {
    if (isObject(f) && typeof f['field'] === 'string') out.set(f['field'], semanticOfSchema(f));
  }
  return out;
}

function semanticsFromHeader(text: string | undefined): Map<string, ColumnSemantic> {
  const out = new Map<string, ColumnSemantic>();
  if (text === undefined) return out;
  let tags: unknown;
  try {
    tags = JSON.parse(text);
  } catch {
    throw new ContractError(`${ChangeHeaders.columns} header: is not JSON`);
  }
  if (!isObject(tags)) throw new ContractError(`${ChangeHeaders.columns} header: must be a JSON object`);
  for (const [column, tag] of Object.entries(tags)) {
    const semantic = typeof tag === 'string' ? semanticOfTag(tag) : undefined;
    if (!semantic) throw new ContractError(`${ChangeHeaders.columns} header: unknown type ${JSON.stringify(tag)} for column ${column}`);
    out.set(column, semantic);
  }
  return out;
}

function nativeRow(row: unknown, semantics: ReadonlyMap<string, ColumnSemantic>, path: string): Row | null {
  if (row === null || row === undefined) return null;
  if (!isObject(row)) throw new ContractError(`${path}: must be an object or null`);
  const out: Row = {};
  for (const [column, value] of Object.entries(row)) {
    const semantic = semantics.get(column);
    out[column] = semantic ? fromDebeziumValue(value, semantic, `${path}.${column}`) : value;
  }
  return out;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** A Debezium envelope (payload) as the native change event, with the headers' help. */
function fromDebezium(payload: Record<string, unknown>, semantics: ReadonlyMap<string, ColumnSemantic>, headers: HeaderMap): ChangeEvent {
  const source = payload['source'] as Record<string, unknown>;
  const name = text(source['name']) ?? '';
  const tsMs = typeof source['ts_ms'] === 'number' ? source['ts_ms'] : undefined;
  const position = headers[ChangeHeaders.position] ?? text(source['lsn']) ?? text(source['change_lsn']) ?? (tsMs !== undefined ? String(tsMs) : undefined);
  const committedAt = headers[ChangeHeaders.committedAt] ?? (tsMs !== undefined ? new Date(tsMs).toISOString() : undefined);
  const op = payload['op'];
  return parseChangeEvent({
    before: nativeRow(payload['before'], semantics, 'before'),
    after: nativeRow(payload['after'], semantics, 'after'),
    op,
    ts_ms: payload['ts_ms'],
    source: {
      system: name.startsWith('legacy.') ? name.slice('legacy.'.length) : name,
      schema: source['schema'],
      table: source['table'],
      position,
      committedAt,
      txId: headers[ChangeHeaders.txId] ?? text(source['txId']) ?? null,
    },
  });
}

/** A run of 16+ digits: a number in the text may be an integer JSON.parse would round. */
const LONG_DIGITS = /\d{16}/;

/** A JSON number as JSON.parse gives it, except an integer beyond 2^53: its exact digits, as the native envelope carries it. */
function exactNumber(digits: string): number | string {
  const n = Number(digits);
  return Number.isSafeInteger(n) || !/^-?\d+$/.test(digits) ? n : digits;
}

/**
 * A Debezium envelope's JSON: int64 values are bare JSON numbers (the JsonConverter writes them so),
 * and one beyond 2^53 would be rounded by JSON.parse. Such text is parsed again without losing
 * digits; the common case (no long digit run) costs one regular expression test.
 */
function debeziumJson(text: string, parsed: unknown): unknown {
  return LONG_DIGITS.test(text) ? parseLossless(text, null, exactNumber) : parsed;
}

/**
 * Decodes a legacy.* message in either format: the native envelope, or Debezium's (with or
 * without the JsonConverter's `{schema, payload}`), values given back their native form. A
 * tombstone (null or empty value) is null: nothing to translate, not a fault.
 */
export function decodeChangeMessage(value: Buffer | null | undefined, headers: HeaderMap): ChangeEvent | null {
  if (value === null || value === undefined || value.length === 0) return null;
  const text = value.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ContractError(`message value: is not valid JSON (${(err as Error).message})`);
  }
  if (isObject(parsed) && 'payload' in parsed && 'schema' in parsed) {
    const exact = debeziumJson(text, parsed) as Record<string, unknown>;
    const payload = exact['payload'];
    if (payload === null) return null;
    if (!isObject(payload) || !isObject(payload['source'])) throw new ContractError('payload: must be a Debezium change envelope');
    return fromDebezium(payload, semanticsFromSchema(exact['schema']), headers);
  }
  if (isObject(parsed) && isObject(parsed['source']) && typeof parsed['source']['connector'] === 'string') {
    return fromDebezium(debeziumJson(text, parsed) as Record<string, unknown>, semanticsFromHeader(headers[ChangeHeaders.columns]), headers);
  }
  return parseChangeEvent(parsed);
}
