import type { JsonSchema } from '@sync/config';
import { EVENT_TYPE, MAPPING_KEYS, OPS } from './mapping.config';
import { FIELD_TYPES } from './mapping.types';

// The JSON Schema of the `mappings:` and `replication:` sections. The loader (mapping.config.ts) is
// hand-written code; this states the types of exactly the fields it accepts (MAPPING_KEYS, checked
// below at load time), so the published schema cannot list a field the loader refuses or miss one
// it takes. Expressions are JSONata strings; their syntax is checked by the loader only.

type Part = keyof typeof MAPPING_KEYS;

const ref = (name: string): JsonSchema => ({ $ref: `#/$defs/${name}` });
const EXPRESSION: JsonSchema = { type: 'string', minLength: 1, description: 'A JSONata expression over the row (forward) or the event data (reverse).' };
const FIELDS: JsonSchema = { type: 'object', additionalProperties: { anyOf: [EXPRESSION, ref('MappingField')] } };
const RENAMES: JsonSchema = { type: 'object', additionalProperties: { type: 'string', minLength: 1 } };

const PROPERTIES: { readonly [P in Part]: Record<(typeof MAPPING_KEYS)[P][number], JsonSchema> } = {
  mapping: {
    source: ref('MappingTable'),
    aggregate: { type: 'string', minLength: 1 },
    version: { type: 'integer', minimum: 1, default: 1 },
    events: { type: 'array', items: ref('MappingEvent') },
    reverse: { type: 'array', items: ref('MappingReverse') },
    schemas: { type: 'object', propertyNames: { pattern: EVENT_TYPE.source }, additionalProperties: { type: 'object' } },
    mapper: { type: 'string', description: 'A custom mapper class registered in libs/custom-mappers.' },
  },
  event: {
    type: { type: 'string', pattern: EVENT_TYPE.source },
    on: { type: 'array', minItems: 1, items: { enum: [...OPS] }, default: ['c', 'u', 'r'] },
    when: EXPRESSION,
    fields: FIELDS,
    schema: { type: 'object', description: 'JSON Schema the event data is checked against.' },
  },
  reverse: {
    event: { type: 'string', pattern: EVENT_TYPE.source },
    target: ref('MappingTable'),
    op: { enum: ['upsert', 'delete'], default: 'upsert' },
    columns: FIELDS,
    references: FIELDS,
    mapper: { type: 'string' },
  },
  replication: {
    name: { type: 'string', minLength: 1 },
    from: ref('MappingTable'),
    to: ref('MappingTable'),
    columns: { ...RENAMES, minProperties: 1 },
    references: RENAMES,
  },
  field: {
    expr: EXPRESSION,
    type: { enum: [...FIELD_TYPES] },
    default: { description: 'Value used when the expression yields nothing.' },
  },
  table: {
    system: { type: 'string', minLength: 1 },
    schema: { type: 'string', minLength: 1 },
    table: { type: 'string', minLength: 1 },
  },
};

const REQUIRED: { readonly [P in Part]: readonly string[] } = {
  mapping: ['aggregate'],
  event: ['type'],
  reverse: ['event', 'target'],
  replication: ['name', 'from', 'to', 'columns'],
  field: ['expr'],
  table: ['system', 'table'],
};

const DEF_NAMES: Record<Part, string> = {
  mapping: 'Mapping',
  event: 'MappingEvent',
  reverse: 'MappingReverse',
  replication: 'ReplicationRule',
  field: 'MappingField',
  table: 'MappingTable',
};

function objectSchema(part: Part): JsonSchema {
  const properties = PROPERTIES[part] as Record<string, JsonSchema>;
  const keys = Object.keys(properties);
  const allowed: readonly string[] = MAPPING_KEYS[part];
  if (keys.length !== allowed.length || !keys.every((k) => allowed.includes(k))) {
    throw new Error(`mapping JSON Schema of ${part} (${keys.join(', ')}) differs from the loader's fields (${allowed.join(', ')})`);
  }
  return { type: 'object', properties, required: [...REQUIRED[part]], additionalProperties: false };
}

/** Schemas of `mappings:` and `replication:`, and the definitions they refer to. */
export function mappingsJsonSchema(): { properties: Record<string, JsonSchema>; defs: Record<string, JsonSchema> } {
  const defs = Object.fromEntries((Object.keys(DEF_NAMES) as Part[]).map((part) => [DEF_NAMES[part], objectSchema(part)]));
  return {
    properties: {
      mappings: { type: 'object', description: 'Forward and reverse mappings by name (docs/mappings.md).', additionalProperties: ref('Mapping') },
      replication: { type: 'array', description: 'Table-to-table replication rules (docs/mappings.md).', items: ref('ReplicationRule') },
    },
    defs,
  };
}
