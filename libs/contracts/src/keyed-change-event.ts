import type { ChangeEvent } from './change-event';
import { parseChangeEvent } from './change-event';
import { cleanText } from './clean-text';
import { ContractError } from './contract-error';

/**
 * A change event with global ids attached by id-translation (topic keyed.<system>.<schema>.<table>,
 * message key = globalId).
 */
export interface KeyedChangeEvent extends ChangeEvent {
  /** Global id of the changed row. */
  readonly globalId: string;
  /**
   * Global ids of the rows the table's declared foreign keys point at, by foreign-key name
   * (its columns joined with ","); null where the foreign-key columns are null.
   */
  readonly references: Readonly<Record<string, string | null>>;
}

/** Name of a foreign key in `references`: its columns joined with ",". */
export function foreignKeyName(columns: readonly string[]): string {
  return columns.join(',');
}

export function parseKeyedChangeEvent(value: unknown): KeyedChangeEvent {
  const base = parseChangeEvent(value);
  const v = value as Record<string, unknown>;
  const globalId = v['globalId'];
  if (typeof globalId !== 'string' || globalId.length === 0) throw new ContractError('globalId: must be a non-empty string');
  cleanText('globalId', globalId);
  const refs = v['references'] ?? {};
  if (typeof refs !== 'object' || refs === null || Array.isArray(refs)) throw new ContractError('references: must be an object');
  for (const [name, id] of Object.entries(refs)) {
    if (id !== null && typeof id !== 'string') throw new ContractError(`references.${name}: must be a string or null`);
    if (id !== null) cleanText(`references.${name}`, id);
  }
  return { ...base, globalId, references: refs as Record<string, string | null> };
}
