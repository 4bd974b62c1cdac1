import { ContractError } from '@sync/contracts';

export const DIRECTIONS = ['legacy-to-new', 'new-to-legacy'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const SYNC_STATES = ['enabled', 'paused', 'disabled'] as const;
/**
 * enabled: changes flow. paused: nothing flows, positions are kept, everything is delivered on
 * resume. disabled: nothing flows; enabling again re-snapshots the entity (legacy→new).
 */
export type SyncState = (typeof SYNC_STATES)[number];

/** One switch on the compacted `sync.control` topic (key: `<entity>|<direction>`). */
export interface ControlRecord {
  readonly entity: string;
  readonly direction: Direction;
  readonly state: SyncState;
  readonly by: string;
  readonly at: string;
  readonly reason: string;
}

/** A one-off request (key: `<entity>|resnapshot`): apps act on requests newer than they have seen. */
export interface ResnapshotRequest {
  readonly entity: string;
  readonly action: 'resnapshot';
  readonly by: string;
  readonly at: string;
  readonly reason: string;
}

export type ControlMessage = ControlRecord | ResnapshotRequest;

const ENTITY = /^[a-z][a-z0-9_]{0,30}\.[^.\s][^.]*\.[^.\s][^.]*$/;

export function controlKey(message: ControlMessage): string {
  return 'action' in message ? `${message.entity}|resnapshot` : `${message.entity}|${message.direction}`;
}

export function assertEntity(entity: string): void {
  if (!ENTITY.test(entity)) throw new ContractError(`entity "${entity}": expected <system>.<schema>.<table>`);
}

function str(v: Record<string, unknown>, field: string): string {
  const value = v[field];
  if (typeof value !== 'string' || value.length === 0) throw new ContractError(`${field}: must be a non-empty string`);
  return value;
}

/** Validates a control message from the topic; throws ContractError naming the bad field. */
export function parseControlMessage(value: unknown): ControlMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ContractError('control message: must be a JSON object');
  const v = value as Record<string, unknown>;
  const entity = str(v, 'entity');
  assertEntity(entity);
  const common = { entity, by: str(v, 'by'), at: str(v, 'at'), reason: typeof v['reason'] === 'string' ? v['reason'] : '' };
  if (Number.isNaN(Date.parse(common.at))) throw new ContractError('at: must be an ISO-8601 timestamp');
  if (v['action'] !== undefined) {
    if (v['action'] !== 'resnapshot') throw new ContractError('action: must be resnapshot');
    return { ...common, action: 'resnapshot' };
  }
  const direction = v['direction'];
  if (!DIRECTIONS.includes(direction as Direction)) throw new ContractError(`direction: must be one of ${DIRECTIONS.join(', ')}`);
  const state = v['state'];
  if (!SYNC_STATES.includes(state as SyncState)) throw new ContractError(`state: must be one of ${SYNC_STATES.join(', ')}`);
  return { ...common, direction: direction as Direction, state: state as SyncState };
}
