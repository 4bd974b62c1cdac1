import { ContractError } from './contract-error';

/** Parses a Kafka message value as JSON; a missing or malformed value is a ContractError. */
export function parseJsonValue(value: Buffer | null | undefined): unknown {
  if (value === null || value === undefined || value.length === 0) throw new ContractError('message value: is empty (tombstone)');
  try {
    return JSON.parse(value.toString('utf8'));
  } catch (err) {
    throw new ContractError(`message value: is not valid JSON (${(err as Error).message})`);
  }
}
