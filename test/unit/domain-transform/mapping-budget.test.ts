import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigValidationError, parsePipeline } from '@sync/config';
import { errorKind } from '@sync/errors';
import { loadMappings, MapperRegistry, MappingEngine, type TransformInput } from '@sync/mapping';
import { MappingError } from '../../../libs/mapping/src/mapping.errors';
import { repoRoot } from '../../support/test-env';

const USERS = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'mappings', 'users.pipeline.yaml'), 'utf8');
const withCity = (expr: string): string => USERS.replace('city: city\n          zip', `city: ${JSON.stringify(expr)}\n          zip`);
const engineFor = (yaml: string): MappingEngine => {
  const mappers = new MapperRegistry();
  return new MappingEngine(loadMappings(parsePipeline(yaml, 'test.yaml'), mappers), mappers);
};
const row = { id: 42, name: 'Ada', email: 'a@x', street: 's', city: 'Leeds', zip: 1, active: 1, manager_id: null };
const keyed: TransformInput = {
  topic: 'keyed.crm.public.users',
  key: 'g',
  value: JSON.stringify({ op: 'c', before: null, after: row, source: { system: 'crm', schema: 'public', table: 'users', position: '1', committedAt: '2025-01-01T00:00:00.000Z', txId: null }, ts_ms: 1, globalId: 'g', references: {} }),
  headers: {},
};

describe('mapping evaluation limits', () => {
  it('refuses $eval at load, naming the mapping path', () => {
    for (const expr of ['$eval(city)', '($f := $eval; $f("1+1"))']) {
      assert.throws(
        () => engineFor(withCity(expr)),
        (e: unknown) => e instanceof ConfigValidationError && e.issues.some((i) => i.path === 'mappings.users.events[1].fields.city' && /\$eval is not allowed/.test(i.message)),
      );
    }
  });

  it('a runaway recursion becomes a data error (depth limit) naming the mapping path', async () => {
    const engine = engineFor(withCity('($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(1000000))'));
    await assert.rejects(engine.transform(keyed), (e: unknown) => e instanceof MappingError && errorKind(e) === 'data' && /fields\.city/.test(e.message) && /Stack overflow|D1011/.test(e.message));
  });

  it('an endless loop becomes a data error within the budget, and timers (heartbeats) keep running meanwhile', async () => {
    const engine = engineFor(withCity('($loop := function($n){ $loop($n + 1) }; $loop(0))'));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = Date.now();
    try {
      await assert.rejects(engine.transform(keyed), (e: unknown) => e instanceof MappingError && errorKind(e) === 'data' && /fields\.city/.test(e.message) && /budget|timeout|D1012/i.test(e.message));
    } finally {
      clearInterval(timer);
    }
    // Bounded: the default budget is 1 s; a generous margin for a loaded machine.
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
    assert.ok(ticks > 0, 'a timer ran during the evaluation: the event loop was not starved');
  });

  it('an ordinary expression is unaffected', async () => {
    const res = await engineFor(withCity('$uppercase(city)')).transform(keyed);
    const address = res.outputs.find((o) => o.headers['ce_type'] === 'AddressChanged');
    assert.equal((JSON.parse(address!.value) as { city: string }).city, 'LEEDS');
  });
});
