import type { ServiceEvent } from './service.repository';

/** A user's name and email as a UserChanged sets them. */
export interface UserRow {
  readonly id: string;
  readonly name: string;
  readonly email: string | null;
  /** The last ce_legacyversion seen after the write; null keeps the row's (or, inserted, none). */
  readonly legacyVersion: string | null;
}

export interface AddressRow {
  readonly userId: string;
  readonly street: string | null;
  readonly city: string | null;
  readonly zip: string | null;
}

export interface OrderRow {
  readonly id: string;
  readonly userId: string | null;
  readonly total: string | null;
  readonly placedAt: string | null;
}

/**
 * What a batch of events comes to, one entry per key and table: the effect of applying the events
 * one by one in order, as a handful of set-based statements (the last write per key wins; a removal
 * followed by a change is that change). Keys are distinct within each list, as one multi-row
 * `INSERT … ON CONFLICT DO UPDATE` requires. The statements run in this order: user deletes,
 * user versions, user upserts; addresses and orders (deletes, then upserts) are independent.
 */
export interface BatchPlan {
  /** Users removed by the batch, and users removed and then written again (their row starts over). */
  readonly userDeletes: readonly string[];
  /** legacy_version seen while a user's row was as the database had it: applied only where the row exists (before the upserts). */
  readonly userVersions: ReadonlyArray<{ readonly id: string; readonly legacyVersion: string }>;
  readonly userUpserts: readonly UserRow[];
  readonly addressDeletes: readonly string[];
  readonly addressUpserts: readonly AddressRow[];
  readonly orderDeletes: readonly string[];
  readonly orderUpserts: readonly OrderRow[];
  /** Types of the events the service keeps, in order: for the applied counters. */
  readonly applied: readonly string[];
}

/** Event types whose ce_legacyversion is recorded on the user row (as the one-by-one apply did). */
function recordsVersion(type: string): boolean {
  return type !== 'UserRemoved' && type !== 'OrderPlaced';
}

function text(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** Where a user row stands while the batch is folded: as in the database, written by the batch, or removed by it. */
type UserState =
  | { kind: 'db'; versionIfExisted: string | undefined }
  | { kind: 'written'; name: string; email: string | null; fresh: boolean; versionIfExisted: string | undefined; version: string | undefined }
  | { kind: 'removed' };

type Last<T> = { kind: 'upsert'; row: T } | { kind: 'delete' };

/**
 * Folds the fresh events of a batch (already without duplicates) into a BatchPlan. Pure: the same
 * events always give the same plan; the order of the events decides, per key, what is written.
 */
export function planBatch(events: readonly ServiceEvent[]): BatchPlan {
  const users = new Map<string, UserState>();
  const addresses = new Map<string, Last<AddressRow>>();
  const orders = new Map<string, Last<OrderRow>>();
  const applied: string[] = [];
  const user = (id: string): UserState => users.get(id) ?? { kind: 'db', versionIfExisted: undefined };

  for (const e of events) {
    switch (e.type) {
      case 'UserChanged': {
        const before = user(e.subject);
        const name = text(e.data['name']) ?? '';
        const email = text(e.data['email']);
        users.set(
          e.subject,
          before.kind === 'written'
            ? { ...before, name, email }
            : { kind: 'written', name, email, fresh: before.kind === 'removed', versionIfExisted: before.kind === 'db' ? before.versionIfExisted : undefined, version: undefined },
        );
        break;
      }
      case 'AddressChanged':
        addresses.set(e.subject, { kind: 'upsert', row: { userId: e.subject, street: text(e.data['street']), city: text(e.data['city']), zip: text(e.data['zip']) } });
        break;
      case 'UserRemoved':
        users.set(e.subject, { kind: 'removed' });
        addresses.set(e.subject, { kind: 'delete' });
        break;
      case 'OrderPlaced':
        orders.set(e.subject, { kind: 'upsert', row: { id: e.subject, userId: text(e.data['userId']), total: text(e.data['total']), placedAt: text(e.data['placedAt']) } });
        break;
      case 'OrderRemoved':
        orders.set(e.subject, { kind: 'delete' });
        break;
      default:
        // An event type this service does not keep: acknowledged and ignored.
        break;
    }
    if (isKnown(e.type)) applied.push(e.type);
    if (e.legacyVersion !== undefined && recordsVersion(e.type)) {
      // UPDATE users SET legacy_version … WHERE id: a no-op while the user is removed.
      const state = user(e.subject);
      if (state.kind === 'db') users.set(e.subject, { kind: 'db', versionIfExisted: e.legacyVersion });
      else if (state.kind === 'written') users.set(e.subject, { ...state, version: e.legacyVersion });
    }
  }

  const plan = {
    userDeletes: [] as string[],
    userVersions: [] as Array<{ id: string; legacyVersion: string }>,
    userUpserts: [] as UserRow[],
    addressDeletes: [] as string[],
    addressUpserts: [] as AddressRow[],
    orderDeletes: [] as string[],
    orderUpserts: [] as OrderRow[],
    applied,
  };
  for (const [id, s] of users) {
    if (s.kind === 'removed') {
      plan.userDeletes.push(id);
      continue;
    }
    if (s.versionIfExisted !== undefined) plan.userVersions.push({ id, legacyVersion: s.versionIfExisted });
    if (s.kind === 'db') continue;
    if (s.fresh) plan.userDeletes.push(id);
    plan.userUpserts.push({ id, name: s.name, email: s.email, legacyVersion: s.version ?? null });
  }
  for (const [id, last] of addresses) {
    if (last.kind === 'delete') plan.addressDeletes.push(id);
    else plan.addressUpserts.push(last.row);
  }
  for (const [id, last] of orders) {
    if (last.kind === 'delete') plan.orderDeletes.push(id);
    else plan.orderUpserts.push(last.row);
  }
  return plan;
}

function isKnown(type: string): boolean {
  return type === 'UserChanged' || type === 'AddressChanged' || type === 'UserRemoved' || type === 'OrderPlaced' || type === 'OrderRemoved';
}

/**
 * The events of a batch to apply: each event id once (the first occurrence), and only ids the
 * database had not recorded yet (`fresh`: the ids the processed_events insert returned).
 */
export function freshEvents(events: readonly ServiceEvent[], fresh: ReadonlySet<string>): ServiceEvent[] {
  const seen = new Set<string>();
  const out: ServiceEvent[] = [];
  for (const e of events) {
    if (!fresh.has(e.id) || seen.has(e.id)) continue;
    seen.add(e.id);
    out.push(e);
  }
  return out;
}
