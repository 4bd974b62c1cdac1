export { canonicalKey, keyValues } from './canonical-key';
export { legacyGlobalId } from './global-id';
export { LruCache } from './lru-cache';
export { TableIndex, tableRefOf } from './table-index';
export type { IndexedTable, ResolvedForeignKey } from './table-index';
export { planForward, keyedEvent, keyedEventJson, firstMergeWait, firstSightGlobalId, ownGlobalId, refId, keyMoveOf, movedReferenceSources } from './forward.translator';
export type { ForwardPlan, KeyMove, LocalKeyRef, MergeWait } from './forward.translator';
export { resolveRequest, targetTable } from './writeback.resolver';
export type { InsertMode, Resolution, ResolveView, TargetState } from './writeback.resolver';
// The key map's PostgreSQL persistence (TypeORM entities, migrations, batched repository), shared by
// id-translation and sync-ctl (ids, status, verify).
export { connectKeymap, createKeymapDataSource } from './persistence/keymap.data-source';

export { KeymapRepository, KeymapTransaction, rowKeyId } from './persistence/keymap.repository';
export type { NewEntry, NewParkedCommand, ParkedCommand, RowKey } from './persistence/keymap.repository';
export { KeymapReadModel } from './persistence/keymap.read-model';
export type { KeymapEntryView } from './persistence/keymap.read-model';
