import type { UserValues, WorkloadModel } from './workload';

/** A users row of the legacy database. */
export interface LegacyUserRow extends NullableUser {
  readonly id: number;
}

/** The new service's users row joined with its address, by global id. */
export interface ServiceUserRow extends NullableUser {
  readonly id: string;
}

interface NullableUser {
  readonly name: string;
  readonly email: string | null;
  readonly street: string | null;
  readonly city: string | null;
  readonly zip: string | null;
}

export interface LegacyOrderRow {
  readonly id: number;
  readonly user_id: number;
  readonly total: string;
}

export interface ServiceOrderRow {
  readonly id: string;
  readonly user_id: string | null;
  readonly total: string | null;
}

/** Who made the change a row should show: the legacy application or the new service. */
export type Owner = 'legacy' | 'new';

export interface Difference {
  /** The database where the row is wrong. */
  readonly side: 'legacy' | 'new-side';
  readonly owner: Owner | 'none';
  readonly entity: 'users' | 'orders';
  readonly kind: 'missing' | 'unexpected' | 'different' | 'duplicate-row';
  readonly key: string;
  readonly detail: string;
}

const USER_FIELDS = ['name', 'email', 'street', 'city', 'zip'] as const;

function userDiff(expected: UserValues, actual: NullableUser): string | undefined {
  const fields = USER_FIELDS.filter((f) => expected[f] !== actual[f]);
  if (fields.length === 0) return undefined;
  return fields.map((f) => `${f}: expected ${JSON.stringify(expected[f])}, found ${JSON.stringify(actual[f])}`).join('; ');
}

/**
 * The final users of both databases against the model. Legacy rows are matched by legacy id for
 * users the legacy application owns and by name for users the new service owns (their names never
 * change and are unique, and the new service never learns their legacy id); the new service's rows
 * are matched by name (every name in the workload is unique).
 */
export function compareUsers(model: WorkloadModel, legacyRows: readonly LegacyUserRow[], serviceRows: readonly ServiceUserRow[]): Difference[] {
  const out: Difference[] = [];
  const newByName = new Map([...model.newUsers.values()].map((u) => [u.name, u]));
  const legacyByName = new Map([...model.legacyUsers.values()].map((u) => [u.name, u]));
  // Seeded users not yet taken over are still the legacy side's: expected on both sides as seeded.
  const awaiting = model.awaitingHandover;

  const seenLegacyIds = new Set<number>();
  const seenNewNames = new Map<string, number>();
  for (const row of legacyRows) {
    const own = model.legacyUsers.get(row.id);
    if (own) {
      seenLegacyIds.add(row.id);
      const d = userDiff(own, row);
      if (d) out.push({ side: 'legacy', owner: 'legacy', entity: 'users', kind: 'different', key: `id ${row.id}`, detail: d });
      continue;
    }
    const theirs = newByName.get(row.name) ?? awaiting.get(row.name);
    if (theirs) {
      const n = (seenNewNames.get(row.name) ?? 0) + 1;
      seenNewNames.set(row.name, n);
      if (n > 1) {
        out.push({ side: 'legacy', owner: 'new', entity: 'users', kind: 'duplicate-row', key: `name ${row.name}`, detail: `${n} legacy rows (id ${row.id})` });
        continue;
      }
      const d = userDiff(theirs, row);
      if (d) out.push({ side: 'legacy', owner: 'new', entity: 'users', kind: 'different', key: `name ${row.name}`, detail: `id ${row.id}: ${d}` });
      continue;
    }
    out.push({ side: 'legacy', owner: 'none', entity: 'users', kind: 'unexpected', key: `id ${row.id}`, detail: `name ${JSON.stringify(row.name)}: no such user in the model (deleted, or never created)` });
  }
  for (const u of model.legacyUsers.values()) {
    if (!seenLegacyIds.has(u.id)) out.push({ side: 'legacy', owner: 'legacy', entity: 'users', kind: 'missing', key: `id ${u.id}`, detail: `name ${u.name}` });
  }
  for (const name of [...newByName.keys(), ...awaiting.keys()]) {
    if (!seenNewNames.has(name)) out.push({ side: 'legacy', owner: 'new', entity: 'users', kind: 'missing', key: `name ${name}`, detail: 'no legacy row' });
  }

  const seenService = new Map<string, number>();
  for (const row of serviceRows) {
    const expected = newByName.get(row.name) ?? legacyByName.get(row.name) ?? awaiting.get(row.name);
    const owner: Owner = newByName.has(row.name) ? 'new' : 'legacy';
    if (!expected) {
      out.push({ side: 'new-side', owner: 'none', entity: 'users', kind: 'unexpected', key: `global id ${row.id}`, detail: `name ${JSON.stringify(row.name)}: no such user in the model` });
      continue;
    }
    const n = (seenService.get(row.name) ?? 0) + 1;
    seenService.set(row.name, n);
    if (n > 1) {
      out.push({ side: 'new-side', owner, entity: 'users', kind: 'duplicate-row', key: `name ${row.name}`, detail: `${n} rows (global id ${row.id})` });
      continue;
    }
    const newUser = newByName.get(row.name);
    if (newUser && newUser.globalId !== row.id) {
      out.push({ side: 'new-side', owner, entity: 'users', kind: 'different', key: `name ${row.name}`, detail: `global id: expected ${newUser.globalId}, found ${row.id}` });
      continue;
    }
    const d = userDiff(expected, row);
    if (d) out.push({ side: 'new-side', owner, entity: 'users', kind: 'different', key: `name ${row.name}`, detail: `global id ${row.id}: ${d}` });
  }
  for (const [name, owner] of [...[...newByName.keys()].map((n) => [n, 'new'] as const), ...[...legacyByName.keys(), ...awaiting.keys()].map((n) => [n, 'legacy'] as const)]) {
    if (!seenService.has(name)) out.push({ side: 'new-side', owner, entity: 'users', kind: 'missing', key: `name ${name}`, detail: 'no row in the new service' });
  }
  return out;
}

/**
 * Orders exist on the legacy side only (the new service keeps them, never writes them): legacy
 * rows by id; the new service's rows by total (unique in the workload), with the user as the
 * global id of the user of that name.
 */
export function compareOrders(model: WorkloadModel, legacyRows: readonly LegacyOrderRow[], serviceRows: readonly ServiceOrderRow[], serviceUsers: readonly ServiceUserRow[]): Difference[] {
  const out: Difference[] = [];
  const seen = new Set<number>();
  for (const row of legacyRows) {
    const o = model.orders.get(row.id);
    if (!o) {
      out.push({ side: 'legacy', owner: 'none', entity: 'orders', kind: 'unexpected', key: `id ${row.id}`, detail: `total ${row.total}` });
      continue;
    }
    seen.add(row.id);
    if (o.userId !== row.user_id || o.total !== row.total) {
      out.push({ side: 'legacy', owner: 'legacy', entity: 'orders', kind: 'different', key: `id ${row.id}`, detail: `expected user ${o.userId} total ${o.total}, found user ${row.user_id} total ${row.total}` });
    }
  }
  for (const o of model.orders.values()) if (!seen.has(o.id)) out.push({ side: 'legacy', owner: 'legacy', entity: 'orders', kind: 'missing', key: `id ${o.id}`, detail: `total ${o.total}` });

  const globalIdByName = new Map(serviceUsers.map((u) => [u.name, u.id]));
  const byTotal = new Map([...model.orders.values()].map((o) => [o.total, o]));
  const seenTotals = new Set<string>();
  for (const row of serviceRows) {
    const o = row.total === null ? undefined : byTotal.get(row.total);
    if (!o || seenTotals.has(row.total!)) {
      out.push({ side: 'new-side', owner: 'none', entity: 'orders', kind: o ? 'duplicate-row' : 'unexpected', key: `global id ${row.id}`, detail: `total ${row.total}` });
      continue;
    }
    seenTotals.add(o.total);
    const user = model.legacyUsers.get(o.userId);
    const expectedUser = user ? globalIdByName.get(user.name) : undefined;
    if (expectedUser === undefined || row.user_id !== expectedUser) {
      out.push({ side: 'new-side', owner: 'legacy', entity: 'orders', kind: 'different', key: `global id ${row.id}`, detail: `total ${o.total}: user expected ${expectedUser ?? `(legacy user ${o.userId} unknown on the new side)`}, found ${row.user_id}` });
    }
  }
  for (const o of model.orders.values()) {
    if (!seenTotals.has(o.total)) out.push({ side: 'new-side', owner: 'legacy', entity: 'orders', kind: 'missing', key: `legacy id ${o.id}`, detail: `total ${o.total}` });
  }
  return out;
}

/** One row write the suite made in the legacy database (faults.writes, filled by an audit trigger). */
export interface AuditWrite {
  readonly seq: number;
  readonly tx: string;
  readonly table: string;
  readonly op: 'INSERT' | 'UPDATE' | 'DELETE';
  readonly rowId: number;
  readonly oldName: string | null;
  readonly newName: string | null;
  readonly oldEmail: string | null;
  readonly newEmail: string | null;
  readonly oldStreet: string | null;
  readonly newStreet: string | null;
}

export interface DuplicateWrite {
  readonly kind: 'unexpected-table' | 'inserted-twice' | 'deleted-twice' | 'value-written-twice' | 'write-without-new-value' | 'write-after-delete';
  readonly key: string;
  readonly detail: string;
}

/**
 * Writes of one command applied more than once. Every new-side command writes a value nothing
 * else writes (UserChanged a fresh e-mail, AddressChanged a fresh street, a create a fresh name),
 * so in the audit of the suite's writes:
 *  - a value entering a row twice (the old value differs, the new one is a value seen before) is
 *    a command re-applied after something else had overwritten it;
 *  - an update that brings neither a new e-mail nor a new street applied no command that had not
 *    been applied before: a redelivered command written again;
 *  - a name inserted twice, deleted twice, or written after its delete, the same for creates and
 *    removals.
 * The write-back folds the commands of a batch per row, so one write may carry several commands;
 * it never splits one command over several writes.
 */
export function findDuplicateWrites(writes: readonly AuditWrite[]): DuplicateWrite[] {
  const out: DuplicateWrite[] = [];
  const entered = new Map<string, number>();
  const inserted = new Map<string, number>();
  const deleted = new Map<string, number>();
  const enter = (column: string, value: string | null, w: AuditWrite): void => {
    if (value === null) return;
    const k = `${column}=${value}`;
    const n = (entered.get(k) ?? 0) + 1;
    entered.set(k, n);
    if (n === 2) out.push({ kind: 'value-written-twice', key: `${w.table} id ${w.rowId}`, detail: `${column} ${JSON.stringify(value)} written again (tx ${w.tx})` });
  };
  for (const w of [...writes].sort((a, b) => a.seq - b.seq)) {
    if (w.table !== 'users') {
      out.push({ kind: 'unexpected-table', key: `${w.table} id ${w.rowId}`, detail: `${w.op} by the write-back on a table no reverse rule targets` });
      continue;
    }
    const name = w.newName ?? w.oldName ?? '?';
    if (deleted.has(name) && w.op !== 'DELETE') out.push({ kind: 'write-after-delete', key: `users ${name}`, detail: `${w.op} of row ${w.rowId} after its delete (tx ${w.tx})` });
    switch (w.op) {
      case 'INSERT': {
        const n = (inserted.get(name) ?? 0) + 1;
        inserted.set(name, n);
        if (n > 1) out.push({ kind: 'inserted-twice', key: `users ${name}`, detail: `insert #${n}, row ${w.rowId} (tx ${w.tx})` });
        enter('email', w.newEmail, w);
        enter('street', w.newStreet, w);
        break;
      }
      case 'UPDATE': {
        const email = w.newEmail !== w.oldEmail;
        const street = w.newStreet !== w.oldStreet;
        if (!email && !street) out.push({ kind: 'write-without-new-value', key: `users id ${w.rowId}`, detail: `update of ${name} brought no new e-mail or street (tx ${w.tx})` });
        if (email) enter('email', w.newEmail, w);
        if (street) enter('street', w.newStreet, w);
        break;
      }
      case 'DELETE': {
        const n = (deleted.get(name) ?? 0) + 1;
        deleted.set(name, n);
        if (n > 1) out.push({ kind: 'deleted-twice', key: `users ${name}`, detail: `delete #${n} (tx ${w.tx})` });
        break;
      }
    }
  }
  return out;
}

export interface CountCheck {
  readonly name: string;
  readonly expected: number;
  readonly actual: number;
  readonly ok: boolean;
  readonly meaning: string;
}

export function countCheck(name: string, expected: number, actual: number, meaning: string): CountCheck {
  return { name, expected, actual, ok: expected === actual, meaning };
}
