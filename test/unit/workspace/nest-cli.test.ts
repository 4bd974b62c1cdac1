import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { APP_NAMES } from '@sync/config';
import { nestApps, nestCliProblems, readNestCli, type NestCliConfig } from '../../support/nest-cli-workspace';
import { repoRoot } from '../../support/test-env';

const config = readNestCli(repoRoot);
const withProjects = (edit: (projects: NonNullable<NestCliConfig['projects']>) => void): NestCliConfig => {
  const copy = structuredClone(config);
  edit(copy.projects!);
  return copy;
};

describe('nest-cli.json describes the monorepo', () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'nest-cli-test-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('every directory under apps/ and libs/ is a project, and every project path exists', () => {
    assert.deepEqual(nestCliProblems(repoRoot, config), []);
  });

  it('lists the four apps, sync-ctl and the console as applications', () => {
    assert.deepEqual(nestApps(config), [...APP_NAMES, 'sync-ctl', 'console'].sort());
  });

  it('reports an app or lib directory on disk that nest-cli.json does not list', () => {
    const problems = nestCliProblems(repoRoot, withProjects((p) => {
      delete p['id-translation'];
      delete p['kafka'];
    }));
    assert.deepEqual(problems, [
      'projects.id-translation: apps/id-translation exists on disk but is not a project in nest-cli.json',
      'projects.kafka: libs/kafka exists on disk but is not a project in nest-cli.json',
    ]);
  });

  it('reports a listed project whose root, sourceRoot, entry file or tsconfig does not exist', () => {
    const problems = nestCliProblems(repoRoot, withProjects((p) => {
      p['ghost'] = { type: 'application', root: 'apps/ghost', sourceRoot: 'apps/ghost/src', entryFile: 'main', compilerOptions: { tsConfigPath: 'apps/ghost/tsconfig.app.json' } };
      p['legacy-import'] = { ...p['legacy-import'], entryFile: 'server' };
    }));
    assert.deepEqual(problems, [
      'projects.legacy-import.entryFile: apps/legacy-import/src/server.ts does not exist',
      'projects.legacy-import.compilerOptions.tsConfigPath (apps/legacy-import/tsconfig.app.json): does not include the entry file apps/legacy-import/src/server.ts',
      'projects.ghost.root: directory "apps/ghost" does not exist',
      'projects.ghost.sourceRoot: directory "apps/ghost/src" does not exist',
      'projects.ghost.compilerOptions.tsConfigPath: apps/ghost/tsconfig.app.json does not exist',
    ]);
  });

  it('reports a project in the wrong folder or with a sourceRoot where nest generate would misplace files', () => {
    const problems = nestCliProblems(repoRoot, withProjects((p) => {
      p['config'] = { ...p['config'], type: 'application' };
      p['sync-ctl'] = { ...p['sync-ctl'], sourceRoot: 'apps/sync-ctl' };
    }));
    assert.deepEqual(problems, [
      'projects.config.type: must be "library" (it lives in libs/), got "application"',
      'projects.sync-ctl.sourceRoot: must be "apps/sync-ctl/src" (where nest generate puts files), got "apps/sync-ctl"',
      // nest start would look for dist/apps/sync-ctl/main.js
      'projects.sync-ctl.entryFile: apps/sync-ctl/main.ts does not exist',
      'projects.sync-ctl.compilerOptions.tsConfigPath (apps/sync-ctl/tsconfig.app.json): does not include the entry file apps/sync-ctl/main.ts',
    ]);
  });

  it('reports a project tsconfig that would emit another layout than npm run build (as `nest g app` writes one)', () => {
    // What the Nest schematic writes for a new app: its own outDir, which would put main.js at
    // dist/apps/<app>/apps/<app>/src/main.js instead of dist/apps/<app>/src/main.js.
    const tsconfig = path.join(scratch, 'tsconfig.app.json');
    writeFileSync(tsconfig, JSON.stringify({ extends: path.join(repoRoot, 'tsconfig.json'), compilerOptions: { outDir: path.join(repoRoot, 'dist/apps/domain-transform'), emitDecoratorMetadata: false }, include: [path.join(repoRoot, 'apps/domain-transform/src/**/*.ts')] }));
    const problems = nestCliProblems(repoRoot, withProjects((p) => {
      p['domain-transform'] = { ...p['domain-transform'], compilerOptions: { tsConfigPath: path.relative(repoRoot, tsconfig) } };
    }));
    const at = `projects.domain-transform.compilerOptions.tsConfigPath (${path.relative(repoRoot, tsconfig)})`;
    assert.deepEqual(problems, [
      `${at}: outDir must be <repo>/dist as in tsconfig.json (one output layout), got ${path.join(repoRoot, 'dist/apps/domain-transform')}`,
      `${at}: experimentalDecorators and emitDecoratorMetadata must be on (Nest injection reads the metadata)`,
    ]);
  });
});
