import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsonata from 'jsonata';
import { parsePipeline } from '@sync/config';
import type { KeyedChangeEvent } from '@sync/contracts';
import { loadMappings, MapperRegistry, MappingEngine, type Bindings, type TransformInput, type TransformOutput } from '@sync/mapping';
import { compileExpression, NEEDS_JSONATA } from '../../../libs/mapping/src/expression';

/** JSONata's own answer, normalised as the engine normalises results (sequences to plain JSON). */
async function byJsonata(source: string, input: unknown, bindings: Bindings): Promise<unknown> {
  const value: unknown = await jsonata(source).evaluate(input, { ...bindings });
  return Array.isArray(value) ? (JSON.parse(JSON.stringify(value)) as unknown) : value;
}

async function evaluated(source: string, input: unknown, bindings: Bindings): Promise<unknown> {
  const value = await compileExpression(source).evaluate(input, bindings);
  return Array.isArray(value) ? (JSON.parse(JSON.stringify(value)) as unknown) : value;
}

const BINDINGS: Bindings = { globalId: 'gid-1', references: { manager_id: 'gid-7', dept: null, 'a,b': 'gid-ab' }, op: 'u', before: null, after: { id: 1 } };

const INPUTS: ReadonlyArray<Record<string, unknown>> = [
  { name: 'Ada', amount: '12.50', qty: 3, price: 12.5, zero: 0, no: false, empty: '', nil: null, a: { b: { c: 'deep' } } },
  { name: null, a: null },
  { a: { b: null } },
  { a: { b: 5 } },
  { a: 'text' },
  { a: { b: { c: [1, 2] } } },
  { a: [{ b: { c: 'x' } }, { b: { c: 'y' } }] },
  { a: { b: [{ c: 1 }, { c: 2 }] } },
  { a: { b: { c: { d: 1 } } } },
  {},
];

const PATHS = ['name', 'amount', 'qty', 'price', 'zero', 'no', 'empty', 'nil', 'missing', 'a', 'a.b', 'a.b.c', 'a.b.c.d', 'a.missing.c', 'constructor', 'toString', 'a.toString', '$globalId', '$references', '$references.manager_id', '$references.dept', '$references.none', '$after.id', '$before.id', '$nosuchbinding', '$string'];

describe('compiled field paths', () => {
  it('a column name, a dotted path and a $binding path compile to a direct reader; anything else is left to JSONata', () => {
    for (const source of ['name', 'a.b.c', '$references.manager_id', '$globalId']) {
      assert.equal(typeof compileExpression(source).direct, 'function', source);
    }
    for (const source of ['$lowercase(email)', '(name)', 'a[0]', 'a.b[0].c', 'true', 'a.and', '$references.`a,b`', '"name"', 'name & ""']) {
      assert.equal(compileExpression(source).direct, undefined, source);
    }
  });

  it('gives what JSONata gives for every path and input: null, missing, numbers as strings and decimals, nested paths, arrays, scalars on the way', async () => {
    for (const input of INPUTS) {
      for (const source of PATHS) {
        const expected = await byJsonata(source, input, BINDINGS);
        assert.deepEqual(await evaluated(source, input, BINDINGS), expected, `${source} on ${JSON.stringify(input)}`);
        const direct = compileExpression(source).direct;
        if (direct === undefined) continue;
        const value = direct(input, BINDINGS);
        // NEEDS_JSONATA hands the input to JSONata (arrays, inherited properties, unknown $names).
        if (value !== NEEDS_JSONATA) assert.deepEqual(value, expected, `direct ${source} on ${JSON.stringify(input)}`);
      }
    }
  });

  it('answers without JSONata for plain JSON objects, and only then', () => {
    const direct = compileExpression('a.b.c').direct!;
    assert.equal(direct({ a: { b: { c: 1 } } }, {}), 1);
    assert.equal(direct({ a: { b: null } }, {}), undefined);
    assert.equal(direct({ a: [{ b: { c: 1 } }] }, {}), NEEDS_JSONATA);
    assert.equal(direct({ a: { b: { c: [1] } } }, {}), NEEDS_JSONATA);
    assert.equal(compileExpression('a.toString').direct!({ a: {} }, {}), NEEDS_JSONATA, 'inherited: JSONata decides');
    assert.equal(compileExpression('$string').direct!({}, {}), NEEDS_JSONATA, 'not a binding: may be a JSONata function');
  });
});

const FIELDS: ReadonlyArray<readonly [string, string | { expr: string; type?: string; default?: unknown }]> = [
  ['name', 'name'],
  ['renamed', 'legacy_name'],
  ['city', 'payload.address.city'],
  ['deep', 'payload.a.b.c'],
  ['managerId', '$references.manager_id'],
  ['gid', '$globalId'],
  ['amount', { expr: 'amount', type: 'number' }],
  ['amountText', { expr: 'amount', type: 'string' }],
  ['price', { expr: 'price', type: 'string' }],
  ['qty', { expr: 'qty', type: 'integer' }],
  ['active', { expr: 'active', type: 'boolean' }],
  ['payload', { expr: 'payload', type: 'json' }],
  ['tags', 'tags'],
  ['fallback', { expr: 'nothere', default: 'n/a' }],
];

/** A pipeline whose one mapping uses FIELDS; `wrap` puts every expression in parentheses, which JSONata evaluates alike but no longer reads as a field path. */
function pipeline(wrap: boolean): string {
  const expr = (e: string): string => JSON.stringify(wrap ? `(${e})` : e);
  const fields = FIELDS.map(([name, spec]) =>
    typeof spec === 'string'
      ? `          ${name}: ${expr(spec)}`
      : `          ${name}: { expr: ${expr(spec.expr)}${spec.type ? `, type: ${spec.type}` : ''}${spec.default !== undefined ? `, default: ${JSON.stringify(spec.default)}` : ''} }`,
  );
  return [
    'version: 1',
    'kafka:',
    '  brokers: ["127.0.0.1:19092"]',
    'systems:',
    '  crm:',
    '    dialect: postgres',
    '    connection: { url: { env: CRM_DATABASE_URL } }',
    '    tables:',
    '      - name: things',
    '        key: [id]',
    '        capture: { mode: trigger }',
    'mappings:',
    '  things:',
    '    source: { system: crm, table: things }',
    '    aggregate: thing',
    '    version: 1',
    '    events:',
    '      - type: ThingChanged',
    '        fields:',
    ...fields,
    '',
  ].join('\n');
}

function engine(yaml: string): MappingEngine {
  const mappers = new MapperRegistry();
  return new MappingEngine(loadMappings(parsePipeline(yaml, 'test.yaml'), mappers), mappers);
}

const ROWS: ReadonlyArray<Record<string, unknown>> = [
  { id: 1, name: 'Ada', legacy_name: 'A', payload: { address: { city: 'Leeds' }, a: { b: { c: 7 } } }, amount: '12.50', price: 12.5, qty: '3', active: 'Y', tags: ['x', 'y'] },
  { id: 2, name: null, legacy_name: null, payload: null, amount: null, price: null, qty: null, active: null, tags: null },
  { id: 3 },
  { id: 4, name: 'Bob', payload: { address: [{ city: 'York' }, { city: 'Hull' }] }, amount: 0.1, price: '0.10', qty: 0, active: 0, tags: [] },
  { id: 5, name: '', payload: '{"address":{"city":"from text"}}', amount: '1e3', price: -0.5, qty: 2, active: true, tags: [{ t: 1 }] },
];

function keyed(op: 'c' | 'u' | 'd', before: Record<string, unknown> | null, after: Record<string, unknown> | null, i: number): TransformInput {
  const value: KeyedChangeEvent = {
    op,
    before,
    after,
    source: { system: 'crm', schema: 'public', table: 'things', position: String(i), committedAt: '2025-01-02T03:04:05.000Z', txId: null },
    ts_ms: 1,
    globalId: `gid-${i}`,
    references: { manager_id: i % 2 === 0 ? null : 'gid-7' },
  };
  return { topic: 'keyed.crm.public.things', key: `gid-${i}`, value: JSON.stringify(value), headers: { 'event-id': `evt-${i}` } };
}

describe('a compiled field map and the JSONata path', () => {
  it('produce byte-identical domain events for the same mapping, including null and missing fields, numbers as strings and decimals, nested paths', async () => {
    const compiled = engine(pipeline(false));
    const general = engine(pipeline(true));
    const inputs: TransformInput[] = [];
    ROWS.forEach((row, i) => inputs.push(keyed('c', null, row, i)));
    ROWS.forEach((row, i) => ROWS.forEach((other, j) => inputs.push(keyed('u', row, other, 100 + i * 10 + j))));
    ROWS.forEach((row, i) => inputs.push(keyed('d', row, null, 200 + i)));
    let produced = 0;
    for (const input of inputs) {
      const [a, b] = [await compiled.transform(input), await general.transform(input)];
      const bytes = (outs: readonly TransformOutput[]): unknown => outs.map((o) => [o.topic, o.key, o.value, Object.entries(o.headers)]);
      assert.deepEqual(bytes(a.outputs), bytes(b.outputs), String(input.value));
      assert.deepEqual(a.skipped, b.skipped, String(input.value));
      produced += a.outputs.length;
    }
    assert.ok(produced > ROWS.length, 'the comparison covered produced events, not only skips');
  });
});
