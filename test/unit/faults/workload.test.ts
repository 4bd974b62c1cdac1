import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../../../scripts/faults/seeded-random';
import { applyLegacyOp, applyNewOp, LegacyWorkload, legacyOpEvents, NewSideWorkload, WorkloadModel, type LegacyOp, type LegacyResult, type NewOp } from '../../../scripts/faults/workload';

/** Plays the database: serial keys for inserts. */
function simulate(seed: number, steps: number): { model: WorkloadModel; legacy: LegacyOp[]; news: NewOp[] } {
  const model = new WorkloadModel();
  const rng = new SeededRandom(seed);
  const lw = new LegacyWorkload(rng.fork('legacy'), model, { minUsers: 10 });
  const nw = new NewSideWorkload(rng.fork('new'), model, { minUsers: 10 });
  let userSeq = 0;
  let orderSeq = 0;
  const result = (op: LegacyOp): LegacyResult => {
    if (op.kind === 'seed') return { userIds: op.users.map(() => ++userSeq), orderIds: op.orderTotals.map(() => ++orderSeq) };
    if (op.kind === 'insert-user') return { userIds: [++userSeq], ...(op.orderTotal === undefined ? {} : { orderIds: [++orderSeq] }) };
    if (op.kind === 'insert-order') return { orderIds: [++orderSeq] };
    return {};
  };
  const seedOp = lw.seed(40);
  applyLegacyOp(model, seedOp, result(seedOp));
  let globalSeq = 0;
  for (const name of [...model.awaitingHandover.keys()]) model.handOver(name, `seed-global-${++globalSeq}`);
  const legacy: LegacyOp[] = [seedOp];
  const news: NewOp[] = [];
  for (let i = 0; i < steps; i++) {
    const op = lw.next();
    legacy.push(op);
    applyLegacyOp(model, op, result(op));
    const n = nw.next();
    news.push(n);
    applyNewOp(model, n);
  }
  return { model, legacy, news };
}

describe('faults: the two-way workload', () => {
  it('is the same sequence of changes for the same seed', () => {
    const a = simulate(5, 500);
    const b = simulate(5, 500);
    assert.deepEqual(a.legacy, b.legacy);
    assert.deepEqual(a.news, b.news);
    assert.notDeepEqual(simulate(6, 50).news, a.news.slice(0, 50));
  });

  it('makes every kind of change on both sides, and no side deletes below its minimum', () => {
    const { model } = simulate(11, 3000);
    for (const kind of ['insert-user', 'update-address', 'update-contact', 'update-both', 'touch-user', 'insert-order', 'update-order', 'delete-order', 'delete-user']) {
      assert.ok((model.opCounts[`legacy:${kind}`] ?? 0) > 0, kind);
    }
    for (const kind of ['create-user', 'move', 'change-email', 'remove-user']) assert.ok((model.opCounts[`new:${kind}`] ?? 0) > 0, kind);
    assert.ok(model.legacyUsers.size >= 10 && model.newUsers.size >= 10);
  });

  it('writes values no other change writes, so each command leaves a trace of its own', () => {
    const { legacy, news } = simulate(3, 3000);
    const written: string[] = [];
    for (const op of legacy) {
      switch (op.kind) {
        case 'seed':
          for (const u of op.users) written.push(`name:${u.name}`, `email:${u.email}`, `street:${u.street}`);
          for (const t of op.orderTotals) written.push(`total:${t}`);
          break;
        case 'insert-user':
          written.push(`name:${op.user.name}`, `email:${op.user.email}`, `street:${op.user.street}`);
          if (op.orderTotal) written.push(`total:${op.orderTotal}`);
          break;
        case 'update-address':
          written.push(`street:${op.street}`);
          break;
        case 'update-contact':
          written.push(`name:${op.name}`, `email:${op.email}`);
          break;
        case 'update-both':
          written.push(`name:${op.values.name}`, `email:${op.values.email}`, `street:${op.values.street}`);
          break;
        case 'insert-order':
        case 'update-order':
          written.push(`total:${op.total}`);
          break;
        case 'touch-user':
        case 'delete-order':
        case 'delete-user':
          break;
      }
    }
    for (const op of news) {
      if (op.kind === 'create-user') written.push(`name:${op.user.name}`, `email:${op.user.email}`, `street:${op.user.street}`);
      if (op.kind === 'move') written.push(`street:${op.street}`);
      if (op.kind === 'change-email') written.push(`email:${op.email}`);
      for (const e of op.events) written.push(`event:${e.id}`);
    }
    assert.equal(new Set(written).size, written.length, 'no value written twice');
  });

  it('tallies the domain events each legacy change must yield and the events the new side published', () => {
    const { model, legacy, news } = simulate(9, 2000);
    assert.equal(model.expectedLegacyEvents, legacy.reduce((a, op) => a + legacyOpEvents(op), 0));
    assert.equal(model.publishedNewEvents, news.reduce((a, op) => a + op.events.length, 0));
    assert.equal(legacyOpEvents({ kind: 'delete-user', id: 1, orders: [4, 5] }), 3, 'UserRemoved and one OrderRemoved per order');
    assert.equal(legacyOpEvents({ kind: 'touch-user', id: 1 }), 0, 'a change of an unmapped column yields nothing');
    assert.equal(legacyOpEvents({ kind: 'insert-user', user: { name: 'a', email: 'b', street: 'c', city: 'd', zip: 'e' }, orderTotal: '1.00' }), 3);
  });

  it('keeps orders on existing legacy-owned users only, and removes a deleted user with its orders', () => {
    const { model, legacy } = simulate(21, 3000);
    for (const o of model.orders.values()) assert.ok(model.legacyUsers.has(o.userId), `order ${o.id} points at user ${o.userId}`);
    const deletes = legacy.filter((op) => op.kind === 'delete-user');
    assert.ok(deletes.some((op) => op.kind === 'delete-user' && op.orders.length > 0), 'some deleted users had orders');
    const seededNew = [...model.newUsers.values()].filter((u) => u.name.startsWith('Seed-N-'));
    assert.ok(seededNew.every((u) => u.globalId.startsWith('seed-global-')), 'seeded users the new side took over keep their global id');
  });

  it('refuses a handover of a user that was not seeded for it', () => {
    assert.throws(() => new WorkloadModel().handOver('nobody', 'g'), /no seeded user nobody/);
  });
});
