import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../support/app-process';
import { nestApps, readNestCli } from '../../support/nest-cli-workspace';
import { repoRoot, testBrokers } from '../../support/test-env';
import { waitFor } from '../../support/wait-for';
import { ADMIN_TOKEN, ImportHarness } from '../legacy-import/import-harness';

// The Nest CLI as a developer runs it (`npx nest ...`), from the repository root where nest-cli.json is.
const NEST = path.join(repoRoot, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
const config = readNestCli(repoRoot);

/**
 * A tsconfig that is the project's own (apps/<app>/tsconfig.app.json) with only outDir moved, so
 * the test neither clobbers dist/ while other tests use it nor depends on what dist/ holds.
 * Inside the repository (.run/ is git-ignored) because `nest build -p` takes a path relative to it.
 */
function scratchTsconfig(dir: string, app: string, outName = app): string {
  const project = config.projects![app]!;
  const file = path.join(dir, `tsconfig.${outName}.json`);
  const tsConfigPath = String(project.compilerOptions!.tsConfigPath);
  writeFileSync(file, JSON.stringify({ extends: path.join(repoRoot, tsConfigPath), compilerOptions: { outDir: path.join(dir, outName) } }));
  return path.relative(repoRoot, file);
}

function jsFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return jsFiles(full, base);
    return e.name.endsWith('.js') ? [path.relative(base, full)] : [];
  });
}

describe('the Nest CLI on this monorepo', () => {
  mkdirSync(path.join(repoRoot, '.run'), { recursive: true });
  const scratch = mkdtempSync(path.join(repoRoot, '.run', 'nest-cli-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('has an application project for every app', () => {
    assert.deepEqual(nestApps(config), ['domain-transform', 'id-translation', 'legacy-import', 'legacy-writeback', 'sync-ctl']);
  });

  for (const app of nestApps(config)) {
    it(`nest build ${app}: builds that app and its libs into the layout of npm run build`, () => {
      const build = spawnSync(process.execPath, [NEST, 'build', app, '-p', scratchTsconfig(scratch, app)], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
      assert.equal(build.status, 0, `nest build ${app} failed:\n${build.stdout}\n${build.stderr}`);
      const out = path.join(scratch, app);
      assert.ok(existsSync(path.join(out, 'apps', app, 'src', 'main.js')), `no apps/${app}/src/main.js in the nest build output`);
      const files = jsFiles(out);
      // One app: its own sources and the libs it imports, never another app, the tests or scripts.
      const foreign = files.filter((f) => !f.startsWith(`apps${path.sep}${app}${path.sep}`) && !f.startsWith(`libs${path.sep}`));
      assert.deepEqual(foreign, [], `nest build ${app} compiled files outside apps/${app} and libs`);
      // One build: every file lands where `npm run build` (tsc -p tsconfig.build.json) puts it, with
      // the same JavaScript (scripts/test.sh ran npm run build on these sources).
      const elsewhere = files.filter((f) => !existsSync(path.join(repoRoot, 'dist', f)));
      assert.deepEqual(elsewhere, [], 'files the nest build puts where npm run build does not');
      const different = files.filter((f) => readFileSync(path.join(out, f), 'utf8') !== readFileSync(path.join(repoRoot, 'dist', f), 'utf8'));
      assert.deepEqual(different, [], 'files the nest build compiles differently from npm run build');
    });
  }

  it('nest build sync-ctl: the output runs (sync-ctl --help)', () => {
    const main = path.join(scratch, 'sync-ctl', 'apps', 'sync-ctl', 'src', 'main.js');
    assert.ok(existsSync(main), 'the nest build sync-ctl test runs first');
    const help = spawnSync(process.execPath, [main, '--help'], { cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /schema/);
  });

  it('nest start legacy-import: compiles, starts and streams its legacy table against Kafka and PostgreSQL', async () => {
    const harness = await ImportHarness.create('CREATE TABLE customers (id int PRIMARY KEY, name text)', '      - name: customers\n        key: [id]\n');
    const port = await freePort();
    const env = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      PIPELINE_FILE: harness.pipelineFile,
      LEGACY_DATABASE_URL: harness.db.url,
      ADMIN_TOKEN,
      KAFKA_BROKERS: testBrokers().join(','),
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    // --no-shell, as the README says: the CLI then forwards SIGTERM to the app itself. Its own process
    // group, so that whatever outlives a failed test can still be ended.
    const cli = spawn(process.execPath, [NEST, 'start', 'legacy-import', '--no-shell', '-p', scratchTsconfig(scratch, 'legacy-import', 'start')], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    cli.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    cli.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    const exited = once(cli, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    exited.catch(() => undefined);
    try {
      const get = async (p: string): Promise<Response | undefined> => {
        try {
          return await fetch(`http://127.0.0.1:${port}${p}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(5000) });
        } catch {
          return undefined;
        }
      };
      // The first start compiles legacy-import and its libs with tsc before the app runs.
      const ready = await waitFor('legacy-import (nest start) ready', async () => {
        if (cli.exitCode !== null) return 'exited';
        return (await get('/health/ready'))?.status === 200 ? 'ready' : undefined;
      }, 240_000, 500);
      assert.equal(ready, 'ready', `nest start exited with ${cli.exitCode}:\n${output.join('')}`);
      assert.ok(existsSync(path.join(scratch, 'start', 'apps', 'legacy-import', 'src', 'main.js')), 'nest start ran the app it built');
      await waitFor('customers captured (streaming)', async () => {
        const entities = (await (await get('/admin/entities'))?.json()) as { entity: string; state?: { phase: string } }[] | undefined;
        return entities?.length === 1 && entities[0]?.state?.phase === 'streaming' ? true : undefined;
      }, 60_000, 200);
      // Stopping the CLI by its pid stops the app gracefully (exit 0) and frees its port.
      cli.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const [code] = await Promise.race([exited, new Promise<[null]>((resolve) => (timer = setTimeout(() => resolve([null]), 40_000)))]);
      clearTimeout(timer);
      assert.equal(code, 0, `nest start did not end with the app's clean exit:\n${output.join('').slice(-3000)}`);
      assert.equal(await get('/health/live'), undefined, 'the app still answers after nest start ended');
    } finally {
      if (cli.pid !== undefined) {
        try {
          process.kill(-cli.pid, 'SIGKILL');
        } catch {
          // the group has already ended
        }
      }
      await harness.close();
    }
  });
});
