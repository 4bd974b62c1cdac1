import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import { parse } from 'yaml';
import { parsePipeline } from '@sync/config';
import { appMappers } from '@sync/custom-mappers';
import { loadMappings } from '@sync/mapping';
import { SCHEMA_PATH } from '../../../scripts/schema/pipeline-schema';
import { repoRoot } from '../../support/test-env';

// docs/pipeline.md is written by hand (it explains), but checked against the generated schema so
// the two cannot drift; YAML examples in the docs are checked by the validator the apps use.

interface JsonObject {
  properties?: Record<string, unknown>;
  required?: string[];
}
const schema = JSON.parse(readFileSync(path.join(repoRoot, SCHEMA_PATH), 'utf8')) as JsonObject & { $defs: Record<string, JsonObject> };
const validateSchema = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true }).compile(schema);
const doc = readFileSync(path.join(repoRoot, 'docs', 'pipeline.md'), 'utf8');

/** The fields documented under each `<!-- schema: Def -->` marker: name → documented as required. */
function documented(): Map<string, Map<string, boolean>> {
  const sections = new Map<string, Map<string, boolean>>();
  let current: Map<string, boolean> | undefined;
  for (const line of doc.split('\n')) {
    const marker = /^<!-- schema: (\S+) -->$/.exec(line);
    if (marker) {
      assert.ok(!sections.has(marker[1]!), `docs/pipeline.md documents ${marker[1]} twice`);
      current = new Map();
      sections.set(marker[1]!, current);
    } else if (line.startsWith('#')) {
      current = undefined;
    } else if (current) {
      const row = /^\| `([^`]+)` \| ([^|]*) \|/.exec(line);
      if (row) current.set(row[1]!, row[2]!.includes('**required**'));
    }
  }
  return sections;
}

function definitions(): Map<string, JsonObject> {
  const defs = new Map<string, JsonObject>([['(root)', schema]]);
  for (const [name, def] of Object.entries(schema.$defs)) if (def.properties) defs.set(name, def);
  return defs;
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

function accepted(text: string, where: string): void {
  const parsed = parse(text) as unknown;
  assert.ok(validateSchema(parsed), `${where}: rejected by the JSON Schema: ${JSON.stringify(validateSchema.errors)}\n${text}`);
  loadMappings(parsePipeline(text, where), appMappers()); // throws ConfigValidationError naming the path
}

function docsFiles(): string[] {
  return readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f));
}

describe('docs/pipeline.md, the pipeline file reference', () => {
  it('documents every field of the schema, and only those, with the right "required"', () => {
    const docs = documented();
    const defs = definitions();
    for (const [name, def] of defs) {
      const fields = docs.get(name);
      assert.ok(fields, `docs/pipeline.md has no section for ${name} (add a heading, <!-- schema: ${name} --> and its table)`);
      const inSchema = Object.keys(def.properties ?? {});
      assert.deepEqual([...fields.keys()].sort(), [...inSchema].sort(), `fields of ${name}: docs/pipeline.md vs ${SCHEMA_PATH}`);
      for (const field of inSchema) {
        assert.equal(fields.get(field), (def.required ?? []).includes(field), `${name}.${field}: "**required**" in docs/pipeline.md must match the schema`);
      }
    }
    for (const name of docs.keys()) assert.ok(defs.has(name), `docs/pipeline.md documents ${name}, which the schema does not have`);
  });

  it('the README points at it (not at a test fixture)', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    assert.match(readme, /\(docs\/pipeline\.md\)/);
    assert.doesNotMatch(readme, /test\/fixtures\/pipeline\/valid\.pipeline\.yaml/);
  });
});

describe('pipeline examples in the docs are valid', () => {
  it('every ```yaml pipeline block of docs/*.md is accepted by the apps and the schema', () => {
    let count = 0;
    for (const file of docsFiles()) {
      const text = readFileSync(path.join(repoRoot, file), 'utf8');
      for (const match of text.matchAll(/^```yaml pipeline\n([\s\S]*?)^```$/gm)) {
        accepted(match[1]!, file);
        count++;
      }
    }
    assert.ok(count >= 1, 'docs/pipeline.md has a complete example');
  });

  it('every inline `capture: { ... }` snippet of docs/*.md is a valid capture block', () => {
    const snippets: Array<[string, string]> = [];
    for (const file of [...docsFiles(), 'README.md']) {
      const text = readFileSync(path.join(repoRoot, file), 'utf8');
      for (const match of text.matchAll(/`(capture: \{[^`]*\})`/g)) snippets.push([file, match[1]!]);
    }
    assert.ok(snippets.some(([, s]) => s === 'capture: { notify: false }'), 'the snippet of issue 17 is among them');
    for (const [file, snippet] of snippets) accepted(BASE.replace('key: [id]', `key: [id]\n        ${snippet}`), `${file}: ${snippet}`);
  });
});
