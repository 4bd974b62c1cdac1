/** A message does not match its contract: never retried, always dead-lettered with this message. */
export class ContractError extends Error {
  override readonly name = 'ContractError';
}
