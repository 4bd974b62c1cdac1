export { DIRECTIONS, controlKey, parseControlMessage } from './control-record';
export type { Direction, SyncState, ControlRecord, ResnapshotRequest, ControlMessage } from './control-record';
export { ControlState } from './control-state';
export type { ControlChange, InitialStateOf } from './control-state';
export { initialStates } from './initial-state';
export { parseStatusRecord, statusKey } from './status-record';
export type { VerifySummary } from './status-record';
