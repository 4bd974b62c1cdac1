import type { SeededRandom } from './seeded-random';

/**
 * The fault run's two-way workload as pure state: what each side changes, and the state both
 * databases must end in. Every change writes values no other change writes (names, e-mails and
 * streets carry a per-side sequence number, order totals too), so
 *  - each change fires exactly the domain events the mapping promises (an event fires only when a
 *    mapped field changed), which makes the expected event count exact, and
 *  - each write-back command leaves a value of its own in the legacy row, which makes a command
 *    applied twice visible in the write audit (checks.ts).
 * Ownership keeps the two sides off each other's rows (the legacy application edits the rows it
 * created and the seeded "Seed-L" users; the new service the users it created and the seeded
 * "Seed-N" users it took over): concurrent edits of one row are conflicts, resolved by policy,
 * and would make the final state depend on timing instead of on lost or duplicated changes.
 */

export interface UserValues {
  name: string;
  email: string;
  street: string;
  city: string;
  zip: string;
}

export interface LegacyUser extends UserValues {
  readonly id: number;
}

export interface LegacyOrder {
  readonly id: number;
  userId: number;
  /** numeric(10,2) as PostgreSQL prints it. */
  total: string;
}

export interface NewUser extends UserValues {
  /** The global id the new service gave it (or id-translation, for a seeded user it took over). */
  readonly globalId: string;
}

export interface SeedUser extends UserValues {
  readonly owner: 'legacy' | 'new';
}

export type LegacyOp =
  | { readonly kind: 'seed'; readonly users: readonly SeedUser[]; readonly orderTotals: readonly string[] }
  | { readonly kind: 'insert-user'; readonly user: UserValues; readonly orderTotal?: string }
  | { readonly kind: 'update-address'; readonly id: number; readonly street: string; readonly city: string; readonly zip: string }
  | { readonly kind: 'update-contact'; readonly id: number; readonly name: string; readonly email: string }
  | { readonly kind: 'update-both'; readonly id: number; readonly values: UserValues }
  | { readonly kind: 'touch-user'; readonly id: number }
  | { readonly kind: 'insert-order'; readonly userId: number; readonly total: string }
  | { readonly kind: 'update-order'; readonly id: number; readonly userId: number; readonly total: string }
  | { readonly kind: 'delete-order'; readonly id: number }
  | { readonly kind: 'delete-user'; readonly id: number; readonly orders: readonly number[] };

export type SeedOp = Extract<LegacyOp, { kind: 'seed' }>;

/** What the database generated while applying a legacy op (serial keys). */
export interface LegacyResult {
  /** seed: one id per user in op order; insert-user: the new user's id. */
  readonly userIds?: readonly number[];
  /** seed: one id per order total; insert-user with an order / insert-order: the new order's id. */
  readonly orderIds?: readonly number[];
}

export interface DomainEventDraft {
  readonly id: string;
  readonly type: 'UserChanged' | 'AddressChanged' | 'UserRemoved';
  readonly subject: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export type NewOp =
  | { readonly kind: 'create-user'; readonly user: NewUser; readonly events: readonly DomainEventDraft[] }
  | { readonly kind: 'move'; readonly globalId: string; readonly street: string; readonly city: string; readonly zip: string; readonly events: readonly DomainEventDraft[] }
  | { readonly kind: 'change-email'; readonly globalId: string; readonly name: string; readonly email: string; readonly events: readonly DomainEventDraft[] }
  | { readonly kind: 'remove-user'; readonly globalId: string; readonly events: readonly DomainEventDraft[] };

export const CITIES = ['Springfield', 'Shelbyville', 'Ogdenville', 'North Haverbrook', 'Capital City', 'Brockway'] as const;

/** The expected state of both sides, and the tallies the checks compare with the databases. */
export class WorkloadModel {
  readonly legacyUsers = new Map<number, LegacyUser>();
  readonly orders = new Map<number, LegacyOrder>();
  readonly newUsers = new Map<string, NewUser>();
  /** Seeded users the new service takes over once their events arrived, by name. */
  readonly awaitingHandover = new Map<string, UserValues>();
  /** Domain events the legacy changes must produce: each applied once by the new service. */
  expectedLegacyEvents = 0;
  /** Events the new side published: each must become exactly one write-back command. */
  publishedNewEvents = 0;
  readonly opCounts: Record<string, number> = {};

  /** Legacy-owned users that may get orders (never a seeded user the new side took over). */
  legacyUserIds(): number[] {
    return [...this.legacyUsers.keys()];
  }

  ordersOf(userId: number): number[] {
    return [...this.orders.values()].filter((o) => o.userId === userId).map((o) => o.id);
  }

  /** A seeded user whose events reached the new side, now edited by the new side only. */
  handOver(name: string, globalId: string): void {
    const values = this.awaitingHandover.get(name);
    if (!values) throw new Error(`no seeded user ${name} awaits a handover`);
    this.awaitingHandover.delete(name);
    this.newUsers.set(globalId, { ...values, globalId });
  }
}

function count(model: WorkloadModel, kind: string): void {
  model.opCounts[kind] = (model.opCounts[kind] ?? 0) + 1;
}

function zip(rng: SeededRandom): string {
  return String(rng.int(0, 99_999)).padStart(5, '0');
}

/** Domain events a legacy op makes domain-transform emit (pipeline of faults-pipeline.ts). */
export function legacyOpEvents(op: LegacyOp): number {
  switch (op.kind) {
    case 'seed':
      return op.users.length * 2 + op.orderTotals.length;
    case 'insert-user':
      return 2 + (op.orderTotal === undefined ? 0 : 1);
    case 'update-address':
    case 'update-contact':
      return 1;
    case 'update-both':
      return 2;
    case 'touch-user':
      return 0;
    case 'insert-order':
    case 'update-order':
    case 'delete-order':
      return 1;
    case 'delete-user':
      return 1 + op.orders.length;
  }
}

/** Records a legacy op the database committed. */
export function applyLegacyOp(model: WorkloadModel, op: LegacyOp, result: LegacyResult = {}): void {
  count(model, `legacy:${op.kind}`);
  model.expectedLegacyEvents += legacyOpEvents(op);
  switch (op.kind) {
    case 'seed': {
      const ids = need(result.userIds, op.users.length, 'seed user ids');
      const orderIds = need(result.orderIds, op.orderTotals.length, 'seed order ids');
      const owners = op.users.map((u, i) => ({ u, id: ids[i]! }));
      for (const { u, id } of owners) {
        const { owner, ...values } = u;
        if (owner === 'legacy') model.legacyUsers.set(id, { ...values, id });
        else model.awaitingHandover.set(values.name, values);
      }
      // Seed orders go to the legacy-owned seed users, round robin.
      const legacyIds = owners.filter((o) => o.u.owner === 'legacy').map((o) => o.id);
      op.orderTotals.forEach((total, i) => model.orders.set(orderIds[i]!, { id: orderIds[i]!, userId: legacyIds[i % legacyIds.length]!, total }));
      return;
    }
    case 'insert-user': {
      const [id] = need(result.userIds, 1, 'user id');
      model.legacyUsers.set(id!, { ...op.user, id: id! });
      if (op.orderTotal !== undefined) {
        const [orderId] = need(result.orderIds, 1, 'order id');
        model.orders.set(orderId!, { id: orderId!, userId: id!, total: op.orderTotal });
      }
      return;
    }
    case 'update-address':
      Object.assign(user(model, op.id), { street: op.street, city: op.city, zip: op.zip });
      return;
    case 'update-contact':
      Object.assign(user(model, op.id), { name: op.name, email: op.email });
      return;
    case 'update-both':
      Object.assign(user(model, op.id), op.values);
      return;
    case 'touch-user':
      return;
    case 'insert-order': {
      const [orderId] = need(result.orderIds, 1, 'order id');
      model.orders.set(orderId!, { id: orderId!, userId: op.userId, total: op.total });
      return;
    }
    case 'update-order':
      Object.assign(order(model, op.id), { userId: op.userId, total: op.total });
      return;
    case 'delete-order':
      model.orders.delete(op.id);
      return;
    case 'delete-user':
      for (const id of op.orders) model.orders.delete(id);
      model.legacyUsers.delete(op.id);
      return;
  }
}

/** Records a new-side op whose local write committed and whose events were published. */
export function applyNewOp(model: WorkloadModel, op: NewOp): void {
  count(model, `new:${op.kind}`);
  model.publishedNewEvents += op.events.length;
  switch (op.kind) {
    case 'create-user':
      model.newUsers.set(op.user.globalId, { ...op.user });
      return;
    case 'move':
      Object.assign(newUser(model, op.globalId), { street: op.street, city: op.city, zip: op.zip });
      return;
    case 'change-email':
      newUser(model, op.globalId).email = op.email;
      return;
    case 'remove-user':
      model.newUsers.delete(op.globalId);
      return;
  }
}

function need<T>(values: readonly T[] | undefined, n: number, what: string): readonly T[] {
  if (!values || values.length !== n) throw new Error(`expected ${n} ${what}, got ${values?.length ?? 0}`);
  return values;
}

function user(model: WorkloadModel, id: number): LegacyUser {
  const u = model.legacyUsers.get(id);
  if (!u) throw new Error(`legacy user ${id} is not in the model`);
  return u;
}

function order(model: WorkloadModel, id: number): LegacyOrder {
  const o = model.orders.get(id);
  if (!o) throw new Error(`order ${id} is not in the model`);
  return o;
}

function newUser(model: WorkloadModel, globalId: string): NewUser {
  const u = model.newUsers.get(globalId);
  if (!u) throw new Error(`new-side user ${globalId} is not in the model`);
  return u;
}

export interface WorkloadOptions {
  /** Deletes stop while a side owns fewer users than this. */
  readonly minUsers: number;
}

/** The legacy application: picks its next change from the model (pure; the driver executes it). */
export class LegacyWorkload {
  private seq = 0;

  constructor(
    private readonly rng: SeededRandom,
    private readonly model: WorkloadModel,
    private readonly options: WorkloadOptions,
  ) {}

  /** `users` seeded users, half owned by each side; one order per legacy-owned one. */
  seed(users: number): SeedOp {
    const list: SeedUser[] = [];
    for (let i = 1; i <= users; i++) {
      const owner = i % 2 === 1 ? 'legacy' : 'new';
      const tag = owner === 'legacy' ? 'L' : 'N';
      list.push({ owner, name: `Seed-${tag}-${i}`, email: `seed-${tag.toLowerCase()}${i}@legacy.example`, street: `${i} Seed Street`, city: this.rng.pick(CITIES), zip: zip(this.rng) });
    }
    const orderTotals = list.filter((u) => u.owner === 'legacy').map(() => this.total());
    return { kind: 'seed', users: list, orderTotals };
  }

  next(): LegacyOp {
    const users = this.model.legacyUserIds();
    const orders = [...this.model.orders.keys()];
    if (users.length === 0) return { kind: 'insert-user', user: this.values() };
    const kind = this.rng.weighted({
      'insert-user': 12,
      'update-address': 18,
      'update-contact': 10,
      'update-both': 5,
      'touch-user': 5,
      'insert-order': 20,
      'update-order': orders.length > 0 ? 14 : 0,
      'delete-order': orders.length > 0 ? 8 : 0,
      'delete-user': users.length > this.options.minUsers ? 8 : 0,
    });
    switch (kind) {
      case 'insert-user':
        return { kind, user: this.values(), ...(this.rng.chance(1 / 3) ? { orderTotal: this.total() } : {}) };
      case 'update-address': {
        const { street, city, zip } = this.values();
        return { kind, id: this.rng.pick(users), street, city, zip };
      }
      case 'update-contact': {
        const { name, email } = this.values();
        return { kind, id: this.rng.pick(users), name, email };
      }
      case 'update-both':
        return { kind, id: this.rng.pick(users), values: this.values() };
      case 'touch-user':
        return { kind, id: this.rng.pick(users) };
      case 'insert-order':
        return { kind, userId: this.rng.pick(users), total: this.total() };
      case 'update-order': {
        const id = this.rng.pick(orders);
        const current = this.model.orders.get(id)!;
        return { kind, id, userId: this.rng.chance(0.5) ? this.rng.pick(users) : current.userId, total: this.total() };
      }
      case 'delete-order':
        return { kind, id: this.rng.pick(orders) };
      case 'delete-user': {
        const id = this.rng.pick(users);
        return { kind, id, orders: this.model.ordersOf(id) };
      }
    }
  }

  /** Fresh values: name, e-mail and street carry this side's next sequence number. */
  private values(): UserValues {
    const n = ++this.seq;
    return { name: `L${n}`, email: `l${n}@legacy.example`, street: `${n} Legacy Lane`, city: this.rng.pick(CITIES), zip: zip(this.rng) };
  }

  /** A total no other order change uses: the sequence number before the point. */
  private total(): string {
    const n = ++this.seq;
    return `${n}.${String(this.rng.int(0, 99)).padStart(2, '0')}`;
  }
}

/** The new service's own changes (pure; the driver writes its tables and publishes the events). */
export class NewSideWorkload {
  private seq = 0;

  constructor(
    private readonly rng: SeededRandom,
    private readonly model: WorkloadModel,
    private readonly options: WorkloadOptions,
  ) {}

  next(): NewOp {
    const users = [...this.model.newUsers.keys()];
    const kind =
      users.length === 0
        ? 'create-user'
        : this.rng.weighted({ 'create-user': 25, move: 35, 'change-email': 20, 'remove-user': users.length > this.options.minUsers ? 10 : 0 });
    switch (kind) {
      case 'create-user': {
        const n = ++this.seq;
        const globalId = this.rng.uuid();
        const user: NewUser = { globalId, name: `S${n}`, email: `s${n}@service.example`, street: `${n} Service Way`, city: this.rng.pick(CITIES), zip: zip(this.rng) };
        return {
          kind,
          user,
          events: [this.event('UserChanged', globalId, { name: user.name, email: user.email }), this.event('AddressChanged', globalId, { street: user.street, city: user.city, zip: user.zip })],
        };
      }
      case 'move': {
        const n = ++this.seq;
        const globalId = this.rng.pick(users);
        const address = { street: `${n} Service Way`, city: this.rng.pick(CITIES), zip: zip(this.rng) };
        return { kind, globalId, ...address, events: [this.event('AddressChanged', globalId, address)] };
      }
      case 'change-email': {
        const n = ++this.seq;
        const globalId = this.rng.pick(users);
        const name = this.model.newUsers.get(globalId)!.name;
        const email = `s${n}@service.example`;
        return { kind, globalId, name, email, events: [this.event('UserChanged', globalId, { name, email })] };
      }
      case 'remove-user': {
        const globalId = this.rng.pick(users);
        return { kind, globalId, events: [this.event('UserRemoved', globalId, {})] };
      }
    }
  }

  private event(type: DomainEventDraft['type'], subject: string, data: Record<string, unknown>): DomainEventDraft {
    return { id: this.rng.uuid(), type, subject, data };
  }
}
