import { cleanText } from './clean-text';
import { ContractError } from './contract-error';

export type ChangeOp = 'c' | 'u' | 'd' | 'r';
export type Row = Record<string, unknown>;

export interface ChangeSource {
  readonly system: string;
  readonly schema: string;
  readonly table: string;
  /** Opaque, totally ordered position within the source table (changelog id, LSN, ...). */
  readonly position: string;
  readonly committedAt: string;
  readonly txId: string | null;
}

/** Technical change event, Debezium-compatible envelope (docs/architecture.md "Contracts"). */
export interface ChangeEvent {
  readonly before: Row | null;
  readonly after: Row | null;
  readonly source: ChangeSource;
  readonly op: ChangeOp;
  readonly ts_ms: number;
}

const OPS: readonly ChangeOp[] = ['c', 'u', 'd', 'r'];

function isRow(v: unknown): v is Row {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function requireString(obj: Record<string, unknown>, field: string, path: string): string {
  const v = obj[field];
  if (typeof v !== 'string' || v.length === 0) throw new ContractError(`${path}.${field}: must be a non-empty string`);
  return cleanText(`${path}.${field}`, v);
}

/** Validates an untrusted value as a change event; throws ContractError naming the bad field. */
export function parseChangeEvent(value: unknown): ChangeEvent {
  if (!isRow(value)) throw new ContractError('change event: must be a JSON object');
  const op = value['op'];
  if (typeof op !== 'string' || !OPS.includes(op as ChangeOp)) {
    throw new ContractError(`op: must be one of ${OPS.join(', ')}`);
  }
  const before = value['before'] ?? null;
  const after = value['after'] ?? null;
  if (before !== null && !isRow(before)) throw new ContractError('before: must be an object or null');
  if (after !== null && !isRow(after)) throw new ContractError('after: must be an object or null');
  if (op === 'd' ? before === null : after === null) {
    throw new ContractError(op === 'd' ? 'before: a delete needs the before image' : 'after: must be present unless op is d');
  }
  const source = value['source'];
  if (!isRow(source)) throw new ContractError('source: must be an object');
  const txId = source['txId'];
  if (txId !== undefined && txId !== null && typeof txId !== 'string') throw new ContractError('source.txId: must be a string or null');
  const tsMs = value['ts_ms'];
  if (typeof tsMs !== 'number' || !Number.isFinite(tsMs)) throw new ContractError('ts_ms: must be a number');
  return {
    before,
    after,
    op: op as ChangeOp,
    ts_ms: tsMs,
    source: {
      system: requireString(source, 'system', 'source'),
      schema: requireString(source, 'schema', 'source'),
      table: requireString(source, 'table', 'source'),
      position: requireString(source, 'position', 'source'),
      committedAt: requireString(source, 'committedAt', 'source'),
      txId: typeof txId === 'string' ? cleanText('source.txId', txId) : null,
    },
  };
}
