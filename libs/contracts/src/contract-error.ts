import { DataError } from '@sync/errors';

/** A message does not match its contract: a data error, never retried, always dead-lettered with this message. */
export class ContractError extends DataError {
  override readonly name = 'ContractError';
}
