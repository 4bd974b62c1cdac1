import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planFaults, type FaultPlanOptions } from '../../../scripts/faults/fault-schedule';
import { parseSeed, SeededRandom } from '../../../scripts/faults/seeded-random';

const APPS = ['legacy-import', 'id-translation', 'domain-transform', 'legacy-writeback'];
const options = (seed: number, over: Partial<FaultPlanOptions> = {}): FaultPlanOptions => ({
  seed,
  changes: 20_000,
  apps: APPS,
  killsPerApp: 2,
  brokerRestarts: 1,
  postgresStops: 1,
  postgresDownMs: 20_000,
  brokerDownMs: [3000, 8000],
  appDownMs: [200, 5000],
  ...over,
});

describe('faults: seeded random numbers', () => {
  it('repeats its sequence for a seed, and forks independent streams by label', () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const xs = Array.from({ length: 50 }, () => a.next());
    assert.deepEqual(Array.from({ length: 50 }, () => b.next()), xs);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    assert.notDeepEqual(Array.from({ length: 5 }, () => new SeededRandom(8).next()), xs.slice(0, 5));
    const legacy = new SeededRandom(7).fork('legacy');
    assert.notEqual(legacy.next(), new SeededRandom(7).fork('new').next());
    assert.equal(new SeededRandom(7).fork('legacy').next(), new SeededRandom(7).fork('legacy').next());
  });

  it('makes version-4-shaped UUIDs and reads FAULTS_SEED strictly', () => {
    assert.match(new SeededRandom(1).uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(parseSeed('1234'), 1234);
    assert.equal(parseSeed(undefined, () => 99), 99);
    assert.equal(parseSeed(' ', () => 98), 98);
    assert.throws(() => parseSeed('12ab'), /FAULTS_SEED: must be an integer/);
    assert.throws(() => parseSeed('99999999999'), /FAULTS_SEED/);
  });
});

describe('faults: the fault plan', () => {
  it('kills every app killsPerApp times, restarts the broker and stops PostgreSQL, inside the window, in order', () => {
    const plan = planFaults(options(42));
    assert.equal(plan.length, 10);
    for (const app of APPS) assert.equal(plan.filter((f) => f.kind === 'kill-app' && f.target === app).length, 2, app);
    assert.equal(plan.filter((f) => f.kind === 'restart-broker').length, 1);
    const pg = plan.filter((f) => f.kind === 'stop-postgres');
    assert.deepEqual(pg.map((f) => [f.target, f.downMs]), [['postgresql', 20_000]]);
    for (let i = 1; i < plan.length; i++) assert.ok(plan[i]!.atChange > plan[i - 1]!.atChange, 'one fault per slot, in increasing order');
    assert.ok(plan.every((f) => f.atChange >= 1000 && f.atChange <= 17_000), 'within 5%..85% of the workload');
    for (const f of plan.filter((f) => f.kind === 'kill-app')) assert.ok(f.downMs >= 200 && f.downMs <= 5000);
    for (const f of plan.filter((f) => f.kind === 'restart-broker')) assert.ok(f.downMs >= 3000 && f.downMs <= 8000);
  });

  it('is the same for the same seed and differs for another', () => {
    assert.deepEqual(planFaults(options(42)), planFaults(options(42)));
    assert.notDeepEqual(planFaults(options(42)), planFaults(options(43)));
  });

  it('adds each scenario as asked, with its duration, and keeps the plan of the old faults when none is asked', () => {
    const plan = planFaults(options(42, { killsPerApp: 1, rollingRestarts: 2, addColumns: 1, dropColumns: 1, dropColumnMs: 7000, revokes: 1, revokeMs: 8000, readOnlySwitches: 1, readOnlyMs: 9000, hostileValues: 2 }));
    const count = (kind: string): number => plan.filter((f) => f.kind === kind).length;
    assert.equal(count('rolling-restart'), 2);
    assert.equal(count('add-column'), 1);
    assert.deepEqual(plan.filter((f) => f.kind === 'drop-column').map((f) => f.downMs), [7000]);
    assert.deepEqual(plan.filter((f) => f.kind === 'revoke-update').map((f) => f.downMs), [8000]);
    assert.deepEqual(plan.filter((f) => f.kind === 'read-only').map((f) => f.downMs), [9000]);
    for (const k of ['hostile-oversize', 'hostile-nul-subject', 'hostile-nul-source']) assert.equal(count(k), 2, k);
    assert.equal(plan.length, 4 + 1 + 1 + 2 + 1 + 1 + 1 + 1 + 6);
    for (let i = 1; i < plan.length; i++) assert.ok(plan[i]!.atChange > plan[i - 1]!.atChange);
    assert.deepEqual(planFaults(options(42, { rollingRestarts: 0, hostileValues: 0 })), planFaults(options(42)));
  });

  it('plans nothing when asked for nothing, and rejects an empty window', () => {
    assert.deepEqual(planFaults(options(1, { killsPerApp: 0, brokerRestarts: 0, postgresStops: 0 })), []);
    assert.throws(() => planFaults(options(1, { window: [0.5, 0.5] })), /fault window/);
  });
});
