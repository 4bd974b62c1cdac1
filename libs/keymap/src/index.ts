export { canonicalKey, canonicalNaturalKey, keyValues } from './canonical-key';
export { legacyGlobalId, mergeGlobalId } from './global-id';
export { LruCache } from './lru-cache';
export { TableIndex, tableRefOf } from './table-index';
export type { IndexedTable, ResolvedForeignKey } from './table-index';
export { planForward, keyedEvent, firstSightGlobalId, ownGlobalId, refId } from './forward.translator';
export type { ForwardPlan, LocalKeyRef } from './forward.translator';
export { resolveRequest, targetTable } from './writeback.resolver';
export type { InsertMode, Resolution, ResolveView, TargetState } from './writeback.resolver';
