import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { repoRoot } from '../../support/test-env';

async function lint(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repoRoot });
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('lint rules that keep lib boundaries', () => {
  it('forbids deep imports into a lib', async () => {
    const messages = await lint('apps/legacy-import/src/main.ts', "import { SyncProducer } from '@sync/kafka/src/sync-producer';\nexport { SyncProducer };\n");
    assert.equal(messages.length, 1);
    assert.match(messages[0]!, /through its index/);
  });

  it('allows the lib index', async () => {
    assert.deepEqual(await lint('apps/legacy-import/src/main.ts', "import { SyncProducer } from '@sync/kafka';\nexport { SyncProducer };\n"), []);
  });

  it('keeps kafkajs inside libs/kafka and pg/mssql inside libs/legacy-db', async () => {
    assert.equal((await lint('apps/legacy-import/src/main.ts', "import { Kafka } from 'kafkajs';\nexport { Kafka };\n")).length, 1);
    assert.equal((await lint('apps/legacy-import/src/main.ts', "import { Pool } from 'pg';\nexport { Pool };\n")).length, 1);
    assert.deepEqual(await lint('libs/kafka/src/x.ts', "import { Kafka } from 'kafkajs';\nexport { Kafka };\n"), []);
    assert.deepEqual(await lint('libs/legacy-db/src/x.ts', "import { Pool } from 'pg';\nexport { Pool };\n"), []);
  });
});
