import path from 'node:path';
import { pipelineJsonSchema, type JsonSchema } from '@sync/config';
import { mappingsJsonSchema } from '@sync/mapping';

/** Where the published schema lives, relative to the repository root. */
export const SCHEMA_PATH = path.join('schemas', 'pipeline.schema.json');

/** The pipeline file's JSON Schema: libs/config's classes plus libs/mapping's sections. */
export function buildPipelineSchema(): JsonSchema {
  const mappings = mappingsJsonSchema();
  return pipelineJsonSchema({ properties: mappings.properties, defs: mappings.defs });
}

/** The file's exact text (stable key order, two-space indent, final newline). */
export function pipelineSchemaText(): string {
  return `${JSON.stringify(buildPipelineSchema(), null, 2)}\n`;
}
