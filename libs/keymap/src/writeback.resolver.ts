import { ContractError, type Row, type WritebackCommand, type WritebackRequest } from '@sync/contracts';
import { canonicalKey, keyValues } from './canonical-key';
import { tableRefOf, type IndexedTable, type TableIndex } from './table-index';

/** What the key map knows about a global id in one target table. */
export type TargetState =
  | { readonly kind: 'known'; readonly key: Row; readonly insertedBy?: string }
  | { readonly kind: 'pending'; readonly insertedBy: string }
  | { readonly kind: 'unknown' };

/** The key-map facts one resolution reads; the service answers them from one batched query. */
export interface ResolveView {
  state(system: string, tableRef: string, globalId: string): TargetState;
  /** True when an earlier command for this row is parked: later ones must queue behind it. */
  parkedAhead(system: string, tableRef: string, globalId: string): boolean;
}

/** How a new row gets its legacy key. */
export type InsertMode = 'generated' | 'allocate' | 'own-key';

export type Resolution =
  | {
      readonly kind: 'command';
      readonly command: WritebackCommand;
      /** Set for the first command of a row the target does not have yet. */
      readonly insert?: InsertMode;
    }
  | { readonly kind: 'park'; readonly waitingOn: readonly string[]; readonly reason: string }
  | { readonly kind: 'skip'; readonly reason: string };

/** The target table of a request; throws ContractError when the pipeline does not know it. */
export function targetTable(request: WritebackRequest, index: TableIndex): IndexedTable {
  const tableRef = tableRefOf(request.schema, request.table);
  const table = index.get(request.system, tableRef);
  if (!table) throw new ContractError(`${request.system}.${tableRef} is not a table of the pipeline`);
  return table;
}

function withoutReferences(request: WritebackRequest): Omit<WritebackRequest, 'references'> {
  const copy: Record<string, unknown> = { ...request };
  delete copy['references'];
  return copy as unknown as Omit<WritebackRequest, 'references'>;
}

function without(columns: Row, drop: readonly string[]): Row {
  const out: Row = {};
  for (const [name, value] of Object.entries(columns)) if (!drop.includes(name)) out[name] = value;
  return out;
}

/**
 * The key a known row moves to when the request writes its key columns with other values (the
 * new side changed a natural key that is the legacy primary key); undefined when it does not.
 * Keys the database generates, or the key map allocates, are not the new side's to change.
 */
function movedKey(table: IndexedTable, current: Row, columns: Row): Row | undefined {
  const { config } = table;
  if (config.generatedKey || config.allocateKeysFrom !== undefined) return undefined;
  if (!config.key.some((column) => column in columns)) return undefined;
  const next: Row = {};
  for (const column of config.key) next[column] = column in columns ? columns[column] : current[column];
  const text = canonicalKey(config.key, next);
  if (text === undefined) throw new ContractError(`columns: key [${config.key.join(', ')}] of ${config.system}.${table.tableRef} cannot be set to null`);
  return text === canonicalKey(config.key, current) ? undefined : next;
}

/**
 * Turns a request keyed by global ids into a command with legacy keys, or says to park or skip it.
 * Pure: every key-map fact comes from `view`.
 */
export function resolveRequest(request: WritebackRequest, table: IndexedTable, view: ResolveView): Resolution {
  const { system } = request;
  const { tableRef, config } = table;
  if (view.parkedAhead(system, tableRef, request.globalId)) {
    return { kind: 'park', waitingOn: [], reason: `an earlier command for ${request.globalId} is parked` };
  }

  // Foreign keys: columns from the referenced row's legacy key in this target system.
  const columns: Row = { ...request.columns };
  const waitingOn: string[] = [];
  const reasons: string[] = [];
  const declared = new Set(table.foreignKeys.map((fk) => fk.name));
  for (const name of Object.keys(request.references)) {
    if (!declared.has(name)) throw new ContractError(`references.${name}: ${system}.${tableRef} declares no such foreign key`);
  }
  for (const fk of table.foreignKeys) {
    if (!(fk.name in request.references)) continue;
    const target = request.references[fk.name];
    if (target === null || target === undefined) {
      for (const column of fk.columns) columns[column] = null;
      continue;
    }
    const state = view.state(fk.target.system, fk.targetRef, target);
    if (state.kind !== 'known') {
      waitingOn.push(target);
      reasons.push(`${fk.name} -> ${fk.target.system}.${fk.targetRef} ${target} is ${state.kind === 'pending' ? 'being inserted' : 'unknown'}`);
      continue;
    }
    fk.target.key.forEach((keyColumn, i) => (columns[fk.columnsInTargetKeyOrder[i]!] = state.key[keyColumn]));
  }

  const own = view.state(system, tableRef, request.globalId);
  if (own.kind === 'pending' && own.insertedBy !== request.commandId) {
    waitingOn.unshift(request.globalId);
    reasons.unshift(`its own insert is waiting for the key ${system} generates`);
  }
  if (waitingOn.length > 0) return { kind: 'park', waitingOn: [...new Set(waitingOn)], reason: reasons.join('; ') };

  const common = withoutReferences(request);
  const dataColumns = without(columns, config.key);
  const isOwnInsert = (own.kind === 'pending' || own.kind === 'known') && own.insertedBy === request.commandId;
  if (own.kind === 'known' && !(isOwnInsert && config.generatedKey)) {
    // Known row, or a replay of an insert whose key we allocated: the same key as the first time.
    const newKey = request.op === 'upsert' ? movedKey(table, own.key, columns) : undefined;
    return { kind: 'command', command: { ...common, columns: dataColumns, key: own.key, ...(newKey ? { newKey } : {}) } };
  }
  if (own.kind === 'known' || own.kind === 'pending') {
    // Replay of the insert that made the row pending: the same command as the first time.
    return { kind: 'command', command: { ...common, columns: dataColumns, key: {} } };
  }
  if (request.op === 'delete') return { kind: 'skip', reason: `${system}.${tableRef} has no row for ${request.globalId}` };
  if (config.generatedKey) return { kind: 'command', command: { ...common, columns: dataColumns, key: {} }, insert: 'generated' };
  if (config.allocateKeysFrom !== undefined) return { kind: 'command', command: { ...common, columns: dataColumns, key: {} }, insert: 'allocate' };
  const key = keyValues(config.key, columns);
  if (Object.values(key).some((v) => v === null || v === undefined)) {
    throw new ContractError(
      `columns: ${system}.${tableRef} has no row for ${request.globalId}, its key is neither generated nor allocated (generatedKey / allocateKeysFrom), and the request does not carry key [${config.key.join(', ')}]`,
    );
  }
  return { kind: 'command', command: { ...common, columns: dataColumns, key }, insert: 'own-key' };
}
