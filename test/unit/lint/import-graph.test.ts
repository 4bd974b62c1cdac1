import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../../support/test-env';

// The import boundaries eslint cannot express (.dependency-cruiser.cjs; docs/architecture.md):
// no app imports another app, no lib imports an app, no dialect folder of libs/legacy-db imports
// another dialect's. eslint.config.mjs keeps the lib-index and driver rules (lib-boundaries.test.ts).

const depcruise = path.join(repoRoot, 'node_modules', '.bin', 'depcruise');
const config = path.join(repoRoot, '.dependency-cruiser.cjs');

interface Violation {
  readonly rule: { readonly name: string };
  readonly from: string;
  readonly to: string;
}

function cruise(cwd: string, roots: readonly string[]): { status: number | null; violations: Violation[]; stderr: string } {
  const res = spawnSync(depcruise, [...roots, '--config', config, '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const parsed = res.stdout ? (JSON.parse(res.stdout) as { summary: { violations: Violation[] } }) : { summary: { violations: [] } };
  return { status: res.status, violations: parsed.summary.violations, stderr: res.stderr };
}

describe('import graph boundaries (dependency-cruiser)', () => {
  const fixture = mkdtempSync(path.join(os.tmpdir(), 'import-graph-'));
  after(() => rmSync(fixture, { recursive: true, force: true }));

  function file(rel: string, text: string): void {
    mkdirSync(path.dirname(path.join(fixture, rel)), { recursive: true });
    writeFileSync(path.join(fixture, rel), text);
  }

  it('finds no violation in apps/ and libs/', () => {
    const { status, violations, stderr } = cruise(repoRoot, ['apps', 'libs']);
    assert.deepEqual(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`), []);
    assert.equal(status, 0, stderr);
  });

  it('fails on app → app, lib → app and dialect → dialect imports, and allows the rest', () => {
    file('tsconfig.json', '{ "compilerOptions": { "module": "commonjs", "strict": true } }\n');
    file('apps/one/src/main.ts', "import { two } from '../../two/src/two';\nimport { lib } from '../../../libs/lib/src/lib';\nexport const one = two + lib;\n");
    file('apps/one/src/helper.ts', "import { one } from './main';\nexport const helper = one;\n");
    file('apps/two/src/two.ts', 'export const two = 2;\n');
    file('libs/lib/src/lib.ts', "import { two } from '../../../apps/two/src/two';\nexport const lib = two;\n");
    file('libs/legacy-db/src/core/batch.ts', 'export const core = 0;\n');
    file('libs/legacy-db/src/postgres/sink.ts', "import { mssql } from '../mssql/sink';\nimport { core } from '../core/batch';\nimport { pg2 } from './other';\nexport const pg = mssql + core + pg2;\n");
    file('libs/legacy-db/src/postgres/other.ts', 'export const pg2 = 1;\n');
    file('libs/legacy-db/src/mssql/sink.ts', "import { core } from '../core/batch';\nexport const mssql = core;\n");
    const { violations } = cruise(fixture, ['apps', 'libs']);
    assert.deepEqual(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort(), [
      'no-app-to-app: apps/one/src/main.ts → apps/two/src/two.ts',
      'no-dialect-to-dialect: libs/legacy-db/src/postgres/sink.ts → libs/legacy-db/src/mssql/sink.ts',
      'no-lib-to-app: libs/lib/src/lib.ts → apps/two/src/two.ts',
    ]);
  });
});
