import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { APP_NAMES } from '@sync/config';
import { repoPath } from './deploy-support';

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = `${line.slice(0, -1).trim()} ${lines[++i]!.trim()}`;
    }
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' '), line: start };
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      assert.ok(match, `FROM at line ${start}`);
      stages.push({ from: match[1]!, name: match[2], instructions: [] });
    } else if (instruction.keyword !== 'ARG' || stages.length > 0) {
      assert.ok(stages.length > 0, `${instruction.keyword} before the first FROM (line ${start})`);
      stages[stages.length - 1]!.instructions.push(instruction);
    }
  }
  return stages;
}

const dockerfile = readFileSync(repoPath('deploy/docker/Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const build = stages.find((s) => s.name === 'build');
const runtime = stages[stages.length - 1]!;

function indexOfRun(stage: Stage, pattern: RegExp): number {
  return stage.instructions.findIndex((i) => i.keyword === 'RUN' && pattern.test(i.args));
}

function jsonArgs(instruction: Instruction | undefined): string[] {
  assert.ok(instruction, 'instruction present');
  return JSON.parse(instruction.args) as string[];
}

describe('deploy/docker/Dockerfile', () => {
  it('has a build stage and a separate runtime stage on the same Node 20 base', () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    assert.ok(build, 'a stage named build');
    assert.notEqual(runtime, build);
    assert.equal(runtime.from, build.from);
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:20\.\d+/m);
  });

  it('builds with npm ci, then tsc, then prunes dev dependencies', () => {
    assert.ok(build);
    const ci = indexOfRun(build, /\bnpm ci\b/);
    const compile = indexOfRun(build, /\b(tsc -p tsconfig\.build\.json|npm run build)\b/);
    const prune = indexOfRun(build, /\bnpm prune --omit=dev\b/);
    assert.ok(ci >= 0 && compile > ci && prune > compile, `order npm ci (${ci}) < build (${compile}) < prune (${prune})`);
    // Every workspace manifest is in place before npm ci, or node_modules/@sync/* would be missing.
    const libsCopy = build.instructions.findIndex((i) => i.keyword === 'COPY' && /^libs\s+libs$/.test(i.args));
    assert.ok(libsCopy >= 0 && libsCopy < ci, 'libs/ copied before npm ci');
  });

  it('ships only production dependencies and build output, as a numeric non-root user', () => {
    const runs = runtime.instructions.filter((i) => i.keyword === 'RUN');
    assert.deepEqual(runs, [], 'the runtime stage installs nothing');
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY');
    assert.ok(copies.length > 0);
    for (const copy of copies) assert.match(copy.args, /^--from=build\s/, `line ${copy.line}: copies from the pruned build stage only`);
    const copied = copies.map((c) => c.args.split(/\s+/)[1]);
    for (const path of ['/app/node_modules', '/app/dist/apps', '/app/dist/libs', '/out/libs', '/app/package.json']) {
      assert.ok(copied.includes(path), `runtime gets ${path}`);
    }
    assert.ok(!copied.some((p) => p === '/app/libs' || p === '/app/apps'), 'no TypeScript sources in the runtime');
    assert.ok(runtime.instructions.some((i) => i.keyword === 'ENV' && /NODE_ENV=production/.test(i.args)));

    const users = runtime.instructions.filter((i) => i.keyword === 'USER');
    assert.equal(users.length, 1);
    const [uid, gid] = users[0]!.args.split(':').map(Number);
    assert.ok(uid !== undefined && Number.isInteger(uid) && uid > 0, 'numeric uid, not root');
    assert.ok(gid !== undefined && Number.isInteger(gid) && gid > 0, 'numeric gid, not root');
    // The Kubernetes pods run as the same uid, so file permissions agree.
    const manifest = parse(readFileSync(repoPath('deploy/k8s/base/legacy-import.yaml'), 'utf8').split('\n---')[0]!) as {
      spec: { template: { spec: { securityContext: { runAsUser: number } } } };
    };
    assert.equal(manifest.spec.template.spec.securityContext.runAsUser, uid);
  });

  it('CMD and every app entry point exist in the build output layout dist/apps/<app>/src/main.js', () => {
    const tsconfig = JSON.parse(readFileSync(repoPath('tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string; rootDir: string } };
    assert.equal(tsconfig.compilerOptions.outDir, 'dist');
    assert.equal(tsconfig.compilerOptions.rootDir, '.');
    const cmd = jsonArgs(runtime.instructions.find((i) => i.keyword === 'CMD'));
    assert.equal(cmd[0], 'node');
    assert.equal(cmd[1], 'dist/apps/sync-ctl/src/main.js');
    for (const entry of [cmd[1]!, ...APP_NAMES.map((app) => `dist/apps/${app}/src/main.js`)]) {
      assert.ok(existsSync(repoPath(entry.replace(/^dist\//, '').replace(/\.js$/, '.ts'))), `source of ${entry}`);
      assert.ok(existsSync(repoPath(entry)), `${entry} built`);
    }
  });

  it('puts sync-ctl on the PATH: a wrapper copied from the build stage that runs the CLI', () => {
    const wrapper = runtime.instructions.find((i) => i.keyword === 'COPY' && /\s\/usr\/local\/bin\/sync-ctl$/.test(i.args));
    assert.ok(wrapper, 'runtime copies the wrapper to /usr/local/bin/sync-ctl');
    assert.ok(build?.instructions.some((i) => i.keyword === 'COPY' && /deploy\/docker\/sync-ctl \/out\/bin\/sync-ctl$/.test(i.args)), 'build stage takes it from deploy/docker/sync-ctl');
    assert.match(readFileSync(repoPath('deploy/docker/Dockerfile.dockerignore'), 'utf8'), /^!deploy\/docker\/sync-ctl$/m, 'the build context keeps the wrapper');
    // The wrapper itself works: run it against this checkout's build instead of /app.
    const out = execFileSync(repoPath('deploy/docker/sync-ctl'), ['--help'], { env: { ...process.env, SYNC_APP_DIR: repoPath('.') }, encoding: 'utf8' });
    assert.match(out, /sync-ctl/);
  });

  it('each lib resolves through its node_modules/@sync link to dist/libs/<lib>/src/index.js', () => {
    for (const lib of readdirSync(repoPath('libs'))) {
      const manifest = JSON.parse(readFileSync(repoPath('libs', lib, 'package.json'), 'utf8')) as { name: string; main: string };
      assert.equal(manifest.name, `@sync/${lib}`);
      // Node resolves "main" relative to the package's path as found (the link), then follows it.
      assert.equal(resolve(repoPath('node_modules', manifest.name), manifest.main), repoPath('dist/libs', lib, 'src/index.js'));
    }
  });

  it('the ignore file keeps local state out of the context but not what the build copies', () => {
    const ignore = readFileSync(repoPath('deploy/docker/Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const pattern of ['**/node_modules', '**/dist', '.git', '.run']) assert.ok(ignore.includes(pattern), `ignores ${pattern}`);
    assert.ok(build);
    const sources = build.instructions
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const source of sources) assert.ok(!ignore.includes(source), `${source} is sent to the builder`);
  });
});

describe('runtime image layout, assembled without Docker', () => {
  const root = mkdtempSync(join(tmpdir(), 'deploy-layout-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('starts the CLI from package.json, lib manifests, node_modules links and dist only', () => {
    // What the runtime stage holds: /app/package.json, node_modules (workspace links to libs/*),
    // libs/*/package.json and dist/{apps,libs}. No TypeScript sources.
    cpSync(repoPath('package.json'), join(root, 'package.json'));
    for (const lib of readdirSync(repoPath('libs'))) {
      mkdirSync(join(root, 'libs', lib), { recursive: true });
      cpSync(repoPath('libs', lib, 'package.json'), join(root, 'libs', lib, 'package.json'));
    }
    cpSync(repoPath('dist/apps'), join(root, 'dist/apps'), { recursive: true });
    cpSync(repoPath('dist/libs'), join(root, 'dist/libs'), { recursive: true });
    mkdirSync(join(root, 'node_modules/@sync'), { recursive: true });
    for (const entry of readdirSync(repoPath('node_modules'))) {
      if (entry !== '@sync') symlinkSync(repoPath('node_modules', entry), join(root, 'node_modules', entry));
    }
    for (const lib of readdirSync(repoPath('libs'))) symlinkSync(`../../libs/${lib}`, join(root, 'node_modules/@sync', lib));
    writeFileSync(join(root, 'pipeline.yaml'), readFileSync(repoPath('examples/pipeline.compose.yaml')));

    const help = execFileSync('node', ['dist/apps/sync-ctl/src/main.js', '--help'], { cwd: root, encoding: 'utf8', env: { PATH: process.env['PATH'] } });
    assert.match(help, /Usage: sync-ctl/);
    const ddl = execFileSync('node', ['dist/apps/sync-ctl/src/main.js', 'schema', '--pipeline', 'pipeline.yaml'], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'], CRM_DATABASE_URL: 'postgres://u:p@127.0.0.1:1/crm' },
    });
    assert.match(ddl, /-- system crm \(postgres\)/);
  });
});
