import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { APP_NAMES, DEFAULT_HTTP_PORTS, parsePipeline } from '@sync/config';
import { composeSchemaProblems, pipelineEnvRefs, readYamlWithMerges, repoPath } from './deploy-support';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  user?: string;
  read_only?: boolean;
  stop_grace_period?: string;
  restart?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
}

const compose = readYamlWithMerges(repoPath('docker-compose.yml')) as ComposeFile;

function service(name: string): Service {
  const found = compose.services[name];
  assert.ok(found, `service ${name}`);
  return found;
}

function seconds(duration: string | undefined): number {
  const match = /^(\d+)s$/.exec(duration ?? '');
  assert.ok(match, `duration ${String(duration)} in seconds`);
  return Number(match[1]);
}

/** `${VAR:-default}` as compose interpolates it with VAR unset. */
function interpolateDefaults(text: string): string {
  return text.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification JSON schema', () => {
    assert.deepEqual(composeSchemaProblems(compose), []);
  });

  it('the schema check can fail: an unknown service key and a bad depends_on condition', () => {
    const broken = {
      services: {
        a: { image: 'x', depends_on: { b: { condition: 'service_finished' } } },
        b: { image: 'x', restart_policy: 'always' },
      },
    };
    const problems = composeSchemaProblems(broken).join('\n');
    assert.match(problems, /restart_policy/);
    assert.match(problems, /service_finished|allowedValues/);
  });

  it('runs Kafka 4.1, SQL Server 2022 with its agent, and PostgreSQL', () => {
    assert.match(String(service('kafka').image), /^apache\/kafka:4\.1\.\d+$/);
    assert.match(String(service('mssql').image), /mssql\/server:2022/);
    assert.equal(service('mssql').environment?.['MSSQL_AGENT_ENABLED'], 'true');
    assert.match(String(service('postgres').image), /^postgres:/);
    for (const name of ['kafka', 'mssql', 'postgres']) assert.ok(service(name).healthcheck, `${name} healthcheck`);
  });

  it('builds the four apps from the one Dockerfile, each on its real port, non-root and read-only', () => {
    for (const app of APP_NAMES) {
      const s = service(app);
      const port = DEFAULT_HTTP_PORTS[app];
      assert.equal(s.build?.dockerfile, 'deploy/docker/Dockerfile');
      assert.ok(existsSync(repoPath(s.build.context, s.build.dockerfile)));
      const entry = `dist/apps/${app}/src/main.js`;
      assert.equal(s.command?.[0], 'node');
      assert.equal(s.command?.[s.command.length - 1], entry);
      assert.ok(existsSync(repoPath(entry)), `${entry} exists after the build`);
      assert.equal(String(s.environment?.['HTTP_PORT']), String(port));
      assert.deepEqual(s.ports, [`127.0.0.1:${port}:${port}`]);
      assert.ok(s.healthcheck?.test.join(' ').includes(`http://127.0.0.1:${port}/health/ready`), `${app}: healthcheck on /health/ready`);
      assert.match(String(s.user), /^[1-9]\d*:\d+$/, `${app}: numeric non-root user`);
      assert.equal(s.read_only, true);
      assert.ok(seconds(s.stop_grace_period) * 1000 > Number(s.environment?.['SHUTDOWN_TIMEOUT_MS']), `${app}: stop grace > SHUTDOWN_TIMEOUT_MS`);
    }
    assert.ok(String(service('id-translation').environment?.['KEYMAP_DATABASE_URL']).startsWith('postgres://'));
  });

  it('installs the changelog schema with a one-shot init before legacy-import starts', () => {
    const init = service('init');
    assert.deepEqual(init.command, ['node', 'dist/apps/sync-ctl/src/main.js', 'schema', '--apply']);
    assert.ok(existsSync(repoPath('dist/apps/sync-ctl/src/main.js')));
    assert.equal(init.restart, 'no');
    assert.equal(init.depends_on?.['postgres']?.condition, 'service_healthy');
    assert.equal(service('legacy-import').depends_on?.['init']?.condition, 'service_completed_successfully');
    assert.equal(service('legacy-import').depends_on?.['kafka']?.condition, 'service_healthy');
  });

  it('mounts a valid pipeline file and gives every process that opens a legacy database its credentials', () => {
    for (const name of ['init', ...APP_NAMES]) {
      const s = service(name);
      const mount = s.volumes?.find((v) => v.endsWith(`:${String(s.environment?.['PIPELINE_FILE'])}:ro`));
      assert.ok(mount, `${name}: PIPELINE_FILE is mounted read-only`);
      const file = repoPath(mount.split(':')[0]!);
      const text = readFileSync(file, 'utf8');
      assert.doesNotThrow(() => parsePipeline(text, file));
      for (const ref of pipelineEnvRefs(text)) {
        const value = s.environment?.[ref];
        assert.ok(value !== undefined && value !== '', `${name}: ${ref} is set`);
      }
    }
  });

  it('creates the demo legacy tables and the key-map database the URLs point at', () => {
    const postgres = service('postgres');
    const initSql = postgres.volumes?.find((v) => v.includes('/docker-entrypoint-initdb.d/'));
    assert.ok(initSql);
    const sql = readFileSync(repoPath(initSql.split(':')[0]!), 'utf8');
    const keymapUrl = new URL(interpolateDefaults(String(service('id-translation').environment?.['KEYMAP_DATABASE_URL'])));
    const crmUrl = new URL(interpolateDefaults(String(service('legacy-import').environment?.['CRM_DATABASE_URL'])));
    for (const db of [keymapUrl.pathname.slice(1), crmUrl.pathname.slice(1)]) assert.match(sql, new RegExp(`CREATE DATABASE ${db};`));
    const pipeline = parsePipeline(readFileSync(repoPath('examples/pipeline.compose.yaml'), 'utf8'), 'compose');
    for (const system of pipeline.systems.values()) {
      for (const table of system.tables) assert.match(sql, new RegExp(`CREATE TABLE ${table.name} \\(`), `table ${table.name}`);
    }
  });
});
