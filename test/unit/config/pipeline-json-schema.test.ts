import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import { parse } from 'yaml';
import { ConfigValidationError, parsePipeline } from '@sync/config';
import { appMappers } from '@sync/custom-mappers';
import { loadMappings } from '@sync/mapping';
import { pipelineSchemaText, SCHEMA_PATH } from '../../../scripts/schema/pipeline-schema';
import { repoRoot } from '../../support/test-env';

const committed = readFileSync(path.join(repoRoot, SCHEMA_PATH), 'utf8');
const schema = JSON.parse(committed) as Record<string, unknown>;
const validateSchema = new Ajv2020({ strict: true, strictRequired: false, allErrors: true, allowUnionTypes: true }).compile(schema);

/** Every pipeline file shipped as an example: examples/, deploy/, test fixtures. */
function examplePipelines(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (/\.ya?ml$/.test(name) && /^systems:/m.test(readFileSync(file, 'utf8')) && /^version:/m.test(readFileSync(file, 'utf8'))) found.push(file);
    }
  };
  for (const dir of ['examples', 'deploy', path.join('test', 'fixtures')]) walk(path.join(repoRoot, dir));
  return found.sort();
}

/** Both judges of a pipeline text: the JSON Schema and the apps' own validation (file + mappings). */
function judge(text: string): { schema: boolean; validator: boolean; errors: string } {
  const schemaOk = validateSchema(parse(text) as unknown);
  let validatorOk = true;
  let errors = JSON.stringify(validateSchema.errors ?? []);
  try {
    loadMappings(parsePipeline(text, 'test.yaml'), appMappers());
  } catch (err) {
    if (!(err instanceof ConfigValidationError)) throw err;
    validatorOk = false;
    errors += `\n${err.message}`;
  }
  return { schema: schemaOk, validator: validatorOk, errors };
}

const BASE = `version: 1
systems:
  crm:
    dialect: postgres
    connection: { url: { env: CRM_DATABASE_URL } }
    tables:
      - name: users
        key: [id]
`;

describe('the pipeline JSON Schema (schemas/pipeline.schema.json)', () => {
  it('is up to date with the validator definitions (run `npm run schema:generate` when this fails)', () => {
    assert.equal(committed, pipelineSchemaText());
  });

  it('is a valid draft 2020-12 schema (Ajv strict mode compiles it)', () => {
    assert.equal(typeof validateSchema, 'function');
  });

  it('accepts every example pipeline that the apps accept, and each names the schema on its first line', () => {
    const files = examplePipelines();
    assert.ok(files.length >= 8, files.join('\n'));
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const relative = path.relative(repoRoot, file);
      const first = text.split('\n')[0] ?? '';
      const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      assert.ok(match, `${relative}: first line must be "# yaml-language-server: $schema=<path>"`);
      assert.equal(path.resolve(path.dirname(file), match[1]!), path.join(repoRoot, SCHEMA_PATH), `${relative}: $schema must point at ${SCHEMA_PATH}`);
      if (relative.includes('broken-key') || text.includes('${RUN}')) continue; // broken on purpose / a template
      const verdict = judge(text);
      assert.deepEqual([verdict.schema, verdict.validator], [true, true], `${relative}: ${verdict.errors}`);
    }
  });

  const agreeing: Array<[string, string]> = [
    ['an unknown field', BASE.replace('key: [id]', 'key: [id]\n        colums: [id]')],
    ['a missing required field', BASE.replace('    dialect: postgres\n', '')],
    ['an integer out of range', BASE.replace('key: [id]', 'key: [id]\n        staleAfterMs: 5')],
    ['a bad enum value', BASE.replace('key: [id]', 'key: [id]\n        conflictPolicy: newest-wins')],
    ['an empty key', BASE.replace('key: [id]', 'key: []')],
    ['a bad identifier', BASE.replace('key: [id]', 'key: ["id;drop"]')],
    ['an inline password', BASE.replace('{ url: { env: CRM_DATABASE_URL } }', '{ host: db, database: crm, password: hunter2 }')],
    ['a connection with neither url nor host', BASE.replace('{ url: { env: CRM_DATABASE_URL } }', '{ port: 5432 }')],
    ['a field of another capture mode', BASE.replace('key: [id]', 'key: [id]\n        capture: { mode: trigger, captureInstance: x }')],
    ['changelog mode without its columns', BASE.replace('key: [id]', 'key: [id]\n        capture: { mode: changelog, changelogTable: log }')],
    ['a bad system name', BASE.replace('  crm:', '  CRM:')],
    ['a bad initialState', BASE.replace('key: [id]', 'key: [id]\n        initialState: paused')],
    ['a mapping with an unknown field', `${BASE}mappings:\n  u:\n    aggregate: user\n    sources: {}\n`],
    ['a reverse rule without target', `${BASE}mappings:\n  u:\n    aggregate: user\n    reverse:\n      - event: UserChanged\n        columns: { name: name }\n`],
    ['a bad field type', `${BASE}mappings:\n  u:\n    source: { system: crm, table: users }\n    aggregate: user\n    events:\n      - type: UserChanged\n        fields: { at: { expr: at, type: datetime } }\n`],
  ];
  for (const [what, text] of agreeing) {
    it(`rejects ${what}, as the apps do`, () => {
      const verdict = judge(text);
      assert.deepEqual([verdict.schema, verdict.validator], [false, false], verdict.errors);
    });
  }

  it('accepts what the apps accept: defaults, optional blocks, capture without mode', () => {
    for (const text of [
      BASE,
      BASE.replace('key: [id]', 'key: [id]\n        capture: { notify: false }\n        initialState: disabled'),
      BASE.replace('{ url: { env: CRM_DATABASE_URL } }', '{ host: db, database: crm, user: { env: U }, password: { file: /run/pw } }'),
    ]) {
      const verdict = judge(text);
      assert.deepEqual([verdict.schema, verdict.validator], [true, true], verdict.errors);
    }
  });

  it('the loader and the schema know the same mapping fields (changing one without the other fails at load)', () => {
    assert.ok(existsSync(path.join(repoRoot, SCHEMA_PATH)));
    const defs = schema['$defs'] as Record<string, { properties: Record<string, unknown> }>;
    assert.deepEqual(Object.keys(defs['MappingReverse']!.properties), ['event', 'target', 'op', 'columns', 'references', 'mapper']);
  });
});
