import { hostileTextProblem } from '@sync/errors';
import { ContractError } from './contract-error';

/** `value` unchanged, or a ContractError naming `field` when it holds a NUL or a lone surrogate. */
export function cleanText(field: string, value: string): string {
  const problem = hostileTextProblem(value);
  if (problem) throw new ContractError(`${field}: ${problem}`);
  return value;
}

/** Checks every string among a key object's values (they are stored in the key map and sent on). */
export function cleanRow(field: string, row: Readonly<Record<string, unknown>>): void {
  for (const [name, value] of Object.entries(row)) {
    cleanText(`${field} column name`, name);
    if (typeof value === 'string') cleanText(`${field}.${name}`, value);
  }
}
