import { cleanRow, cleanText } from './clean-text';
import { ContractError } from './contract-error';
import type { Row } from './change-event';

/**
 * A legacy key the database generated for a row the new side created (topic idmap.links,
 * message key = globalId), published by legacy-writeback for id-translation.
 */
export interface IdmapLink {
  readonly system: string;
  readonly schema: string;
  readonly table: string;
  readonly key: Row;
  readonly globalId: string;
  readonly commandId: string;
}

export function parseIdmapLink(value: unknown): IdmapLink {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ContractError('id-map link: must be a JSON object');
  const v = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of ['system', 'schema', 'table', 'globalId', 'commandId'] as const) {
    const s = v[field];
    if (typeof s !== 'string' || s.length === 0) throw new ContractError(`${field}: must be a non-empty string`);
    out[field] = cleanText(field, s);
  }
  const key = v['key'];
  if (typeof key !== 'object' || key === null || Array.isArray(key) || Object.keys(key).length === 0) {
    throw new ContractError('key: must be a non-empty object');
  }
  cleanRow('key', key as Row);
  return { ...(out as Omit<IdmapLink, 'key'>), key: key as Row };
}
