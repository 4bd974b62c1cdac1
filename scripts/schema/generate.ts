// npm run schema:generate — writes schemas/pipeline.schema.json from the validator's definitions.
// test/unit/config/pipeline-json-schema.test.ts fails when the committed file is stale.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipelineSchemaText, SCHEMA_PATH } from './pipeline-schema';

const root = path.resolve(__dirname, '..', '..', '..');
writeFileSync(path.join(root, SCHEMA_PATH), pipelineSchemaText());
process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
