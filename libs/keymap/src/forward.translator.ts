import { ContractError, type ChangeEvent, type KeyedChangeEvent, type Row } from '@sync/contracts';
import { canonicalKey, canonicalNaturalKey, keyValues } from './canonical-key';
import { legacyGlobalId, mergeGlobalId } from './global-id';
import { tableRefOf, type IndexedTable, type ResolvedForeignKey, type TableIndex } from './table-index';

/** One legacy row named by its key: what the key map stores and looks up. */
export interface LocalKeyRef {
  readonly system: string;
  readonly tableRef: string;
  /** Canonical key text (see canonicalKey). */
  readonly localKey: string;
  readonly keyValues: Row;
  /** Set when the row's table merges by natural key and the row carries one. */
  readonly merge?: { readonly group: string; readonly naturalKey: string };
}

/** What translating one change event needs from the key map. */
export interface ForwardPlan {
  readonly event: ChangeEvent;
  readonly table: IndexedTable;
  readonly row: LocalKeyRef;
  /** Per declared foreign key: the referenced row, or null when a referencing column is null. */
  readonly references: ReadonlyArray<{ readonly fk: ResolvedForeignKey; readonly ref: LocalKeyRef | null }>;
}

/** Identity of a local key for maps and caches. */
export function refId(ref: { system: string; tableRef: string; localKey: string }): string {
  return `${ref.system}\u0000${ref.tableRef}\u0000${ref.localKey}`;
}

/** Reads keys and foreign keys off a change event; throws ContractError when it cannot be translated. */
export function planForward(event: ChangeEvent, index: TableIndex): ForwardPlan {
  const { system, schema, table: name } = event.source;
  const tableRef = tableRefOf(schema, name);
  const table = index.get(system, tableRef);
  if (!table) throw new ContractError(`source: ${system}.${tableRef} is not a table of the pipeline`);
  const image = (event.op === 'd' ? event.before : event.after) ?? {};
  const localKey = canonicalKey(table.config.key, image);
  if (localKey === undefined) {
    throw new ContractError(`${event.op === 'd' ? 'before' : 'after'}: key [${table.config.key.join(', ')}] of ${system}.${tableRef} has a null or missing column`);
  }
  const merge = table.config.merge;
  const naturalKey = merge ? canonicalNaturalKey(merge.on, image) : undefined;
  const row: LocalKeyRef = {
    system,
    tableRef,
    localKey,
    keyValues: keyValues(table.config.key, image),
    ...(merge && naturalKey !== undefined ? { merge: { group: merge.group, naturalKey } } : {}),
  };
  const references = table.foreignKeys.map((fk) => {
    const targetKey = canonicalKey(fk.columnsInTargetKeyOrder, image);
    if (targetKey === undefined) return { fk, ref: null };
    const values: Row = {};
    fk.target.key.forEach((column, i) => (values[column] = image[fk.columnsInTargetKeyOrder[i]!]));
    return { fk, ref: { system: fk.target.system, tableRef: fk.targetRef, localKey: targetKey, keyValues: values } };
  });
  return { event, table, row, references };
}

/** The global id a key gets on first sight: its merge group's id when it has one, else its own. */
export function firstSightGlobalId(ref: LocalKeyRef): string {
  return ref.merge ? mergeGlobalId(ref.merge.group, ref.merge.naturalKey) : legacyGlobalId(ref.system, ref.tableRef, ref.localKey);
}

/** The key's own id, used when its merge id is already taken by another row of the same table. */
export function ownGlobalId(ref: LocalKeyRef): string {
  return legacyGlobalId(ref.system, ref.tableRef, ref.localKey);
}

/** The keyed event for a plan, given the global id of every local key it names. */
export function keyedEvent(plan: ForwardPlan, globalIdOf: (ref: LocalKeyRef) => string): KeyedChangeEvent {
  const references: Record<string, string | null> = {};
  for (const { fk, ref } of plan.references) references[fk.name] = ref === null ? null : globalIdOf(ref);
  return { ...plan.event, globalId: globalIdOf(plan.row), references };
}

/**
 * `JSON.stringify(keyedEvent(plan, globalIdOf))`, byte for byte, without copying the event: the
 * parsed change event has none of the keys the keyed event adds, so they follow its own text.
 */
export function keyedEventJson(plan: ForwardPlan, globalId: string, globalIdOf: (ref: LocalKeyRef) => string): string {
  const references: Record<string, string | null> = {};
  for (const { fk, ref } of plan.references) references[fk.name] = ref === null ? null : globalIdOf(ref);
  const event = JSON.stringify(plan.event);
  return `${event.slice(0, -1)},"globalId":${JSON.stringify(globalId)},"references":${JSON.stringify(references)}}`;
}

/** A foreign-key target the batch must not give an id yet, and the first event naming it. */
export interface MergeWait {
  readonly index: number;
  readonly ref: LocalKeyRef;
}

/**
 * The first event that must wait for a row of a merge table: it names that row as a foreign-key
 * target, the key map has not seen it (`isKnown`), and no event of the batch is the row itself.
 * Giving the row an id from its key alone would fix it before the row's own event brings the
 * natural key, and the merge could never apply (child events are often read before their
 * parent's: one topic per table, snapshots of all tables at once).
 */
export function firstMergeWait(plans: readonly ForwardPlan[], isKnown: (ref: LocalKeyRef) => boolean): MergeWait | undefined {
  const inBatch = new Set(plans.map((plan) => refId(plan.row)));
  for (let index = 0; index < plans.length; index++) {
    for (const { fk, ref } of plans[index]!.references) {
      if (ref === null || fk.target.merge === undefined) continue;
      if (!inBatch.has(refId(ref)) && !isKnown(ref)) return { index, ref };
    }
  }
  return undefined;
}

/**
 * One end of a primary-key update, which legacy-import publishes as a delete of the old key
 * (carrying the new key) and a create of the new key (carrying the old key).
 */
export interface KeyMove {
  /** `old-end`: the delete under the old key; `new-end`: the create under the new key. */
  readonly end: 'old-end' | 'new-end';
  readonly from: LocalKeyRef;
  readonly to: LocalKeyRef;
}

/** The key move a change event is one end of, read from its header (the other key's JSON); undefined for any other event. */
export function keyMoveOf(plan: ForwardPlan, otherKeyHeader: { readonly newKey?: string; readonly oldKey?: string }): KeyMove | undefined {
  const end = plan.event.op === 'd' && otherKeyHeader.newKey !== undefined ? 'old-end' : plan.event.op === 'c' && otherKeyHeader.oldKey !== undefined ? 'new-end' : undefined;
  if (end === undefined) return undefined;
  const header = end === 'old-end' ? otherKeyHeader.newKey! : otherKeyHeader.oldKey!;
  const name = end === 'old-end' ? 'header __debezium.newkey' : 'header __debezium.oldkey';
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    throw new ContractError(`${name}: must be the other key as a JSON object`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ContractError(`${name}: must be the other key as a JSON object`);
  const columns = plan.table.config.key;
  const localKey = canonicalKey(columns, parsed as Row);
  if (localKey === undefined) throw new ContractError(`${name}: key [${columns.join(', ')}] has a null or missing column`);
  const other: LocalKeyRef = { system: plan.row.system, tableRef: plan.row.tableRef, localKey, keyValues: keyValues(columns, parsed as Row) };
  return end === 'old-end' ? { end, from: plan.row, to: other } : { end, from: other, to: plan.row };
}

/**
 * Foreign-key targets an update moved from one row to another: the target the before image
 * named, by the reference's index. A parent whose primary key changed moves every child with
 * ON UPDATE CASCADE, and the children's events may be read before the parent's move.
 */
export function movedReferenceSources(plan: ForwardPlan): Map<number, LocalKeyRef> {
  const out = new Map<number, LocalKeyRef>();
  const before = plan.event.before;
  if (plan.event.op !== 'u' || before === null) return out;
  plan.references.forEach(({ fk, ref }, i) => {
    if (ref === null) return;
    const was = canonicalKey(fk.columnsInTargetKeyOrder, before);
    if (was === undefined || was === ref.localKey) return;
    const values: Row = {};
    fk.target.key.forEach((column, j) => (values[column] = before[fk.columnsInTargetKeyOrder[j]!]));
    out.set(i, { system: ref.system, tableRef: ref.tableRef, localKey: was, keyValues: values });
  });
  return out;
}
