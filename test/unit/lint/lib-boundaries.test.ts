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

  it('keeps libs/legacy-db cut by dialect: core knows no dialect, no dialect folder imports another', async () => {
    // Real files: the project service parses only files the tsconfig includes.
    const imp = (from: string) => `import { x } from '${from}';\nexport { x };\n`;
    assert.equal((await lint('libs/legacy-db/src/mssql/mssql-position.ts', imp('../postgres/postgres-writeback.sql'))).length, 1);
    assert.equal((await lint('libs/legacy-db/src/postgres/postgres-xid-window.ts', imp('../mssql/mssql-statement'))).length, 1);
    assert.equal((await lint('libs/legacy-db/src/core/republish-origin.ts', imp('../postgres/postgres.legacy-db'))).length, 1);
    assert.equal((await lint('libs/legacy-db/src/core/republish-origin.ts', imp('../dialects'))).length, 1);
    assert.equal((await lint('libs/legacy-db/src/core/republish-origin.ts', "import { Pool } from 'pg';\nexport { Pool };\n")).length, 1, 'core talks to no driver');
    assert.deepEqual(await lint('libs/legacy-db/src/postgres/postgres-xid-window.ts', imp('../core/dialect')), []);
    assert.deepEqual(await lint('libs/legacy-db/src/dialects.ts', imp('./postgres/postgres.dialect')), []);
  });

  it('lets only tests reach the internals of a lib by path', async () => {
    const imp = (from: string) => `import { x } from '${from}';\nexport { x };\n`;
    assert.equal((await lint('apps/legacy-import/src/main.ts', imp('../../../libs/legacy-db/src/postgres/postgres-xid-window'))).length, 1);
    assert.equal((await lint('libs/keymap/src/index.ts', imp('../../legacy-db/src/core/dialect'))).length, 1);
    assert.equal((await lint('scripts/bench/legacy-writeback.bench.ts', imp('../../libs/legacy-db/src/core/dialect'))).length, 1);
    assert.deepEqual(await lint('test/unit/lint/lib-boundaries.test.ts', imp('../../../libs/legacy-db/src/core/dialect')), []);
  });
});
