import { ContractError } from '@sync/contracts';
import { assertEntity } from './control-record';

/**
 * The last `sync-ctl verify` of one entity, on the compacted `sync.status` topic (key:
 * `<entity>|verify`): what the status console shows as "last verify".
 */
export interface VerifySummary {
  readonly kind: 'verify';
  readonly entity: string;
  readonly at: string;
  readonly by: string;
  readonly agree: boolean;
  readonly differences: number;
  readonly legacyRows: number;
  readonly newRows: number;
}

export function statusKey(summary: VerifySummary): string {
  return `${summary.entity}|${summary.kind}`;
}

function count(v: Record<string, unknown>, field: string): number {
  const n = v[field];
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new ContractError(`${field}: must be a whole number >= 0`);
  return n;
}

/** Validates a record of `sync.status`; throws ContractError naming the bad field. */
export function parseStatusRecord(value: unknown): VerifySummary {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ContractError('status record: must be a JSON object');
  const v = value as Record<string, unknown>;
  if (v['kind'] !== 'verify') throw new ContractError('kind: must be verify');
  const entity = v['entity'];
  if (typeof entity !== 'string') throw new ContractError('entity: must be a string');
  assertEntity(entity);
  const at = v['at'];
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) throw new ContractError('at: must be an ISO-8601 timestamp');
  const by = typeof v['by'] === 'string' ? v['by'] : '';
  if (typeof v['agree'] !== 'boolean') throw new ContractError('agree: must be true or false');
  return { kind: 'verify', entity, at, by, agree: v['agree'], differences: count(v, 'differences'), legacyRows: count(v, 'legacyRows'), newRows: count(v, 'newRows') };
}
