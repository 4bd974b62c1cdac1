import { ContractError } from './contract-error';
import type { Row } from './change-event';

export type CommandOp = 'upsert' | 'delete';

/** Row command for legacy-writeback (DESIGN.md "Contracts"). */
export interface WritebackCommand {
  readonly commandId: string;
  readonly op: CommandOp;
  readonly system: string;
  readonly table: string;
  readonly key: Row;
  readonly columns: Row;
  readonly occurredAt: string;
  /** Position or version of the legacy row the new side last saw; drives conflict detection. */
  readonly basedOn?: string;
  readonly origin: string;
  readonly causationId: string;
}

function str(v: Record<string, unknown>, field: string): string {
  const value = v[field];
  if (typeof value !== 'string' || value.length === 0) throw new ContractError(`${field}: must be a non-empty string`);
  return value;
}

function obj(v: Record<string, unknown>, field: string): Row {
  const value = v[field];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ContractError(`${field}: must be an object`);
  return value as Row;
}

/** Validates an untrusted value as a write-back command; throws ContractError naming the bad field. */
export function parseWritebackCommand(value: unknown): WritebackCommand {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ContractError('write-back command: must be a JSON object');
  }
  const v = value as Record<string, unknown>;
  const op = v['op'];
  if (op !== 'upsert' && op !== 'delete') throw new ContractError('op: must be upsert or delete');
  const key = obj(v, 'key');
  if (Object.keys(key).length === 0) throw new ContractError('key: must not be empty');
  const basedOn = v['basedOn'];
  if (basedOn !== undefined && basedOn !== null && typeof basedOn !== 'string') throw new ContractError('basedOn: must be a string');
  const occurredAt = str(v, 'occurredAt');
  if (Number.isNaN(Date.parse(occurredAt))) throw new ContractError('occurredAt: must be an ISO-8601 timestamp');
  return {
    commandId: str(v, 'commandId'),
    op,
    system: str(v, 'system'),
    table: str(v, 'table'),
    key,
    columns: op === 'delete' && v['columns'] === undefined ? {} : obj(v, 'columns'),
    occurredAt,
    ...(typeof basedOn === 'string' ? { basedOn } : {}),
    origin: str(v, 'origin'),
    causationId: str(v, 'causationId'),
  };
}
