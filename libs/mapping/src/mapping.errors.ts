import { ContractError } from '@sync/contracts';

/**
 * A message could not be mapped (an expression failed, a value has the wrong type, the result does
 * not match its schema). Deterministic, so it is a ContractError: dead-lettered at once, never
 * retried. The message names the mapping path and the field.
 */
export class MappingError extends ContractError {
  constructor(readonly path: string, problem: string) {
    super(`${path}: ${problem}`);
  }
}
