import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LegacyDatabase } from '../../support/legacy-database';
import { repoRoot, testBrokers, testDatabaseUrl, uniqueName } from '../../support/test-env';

const MAIN = path.join(repoRoot, 'dist', 'apps', 'sync-ctl', 'src', 'main.js');
/** Nothing listens on port 1: a refused connection, as with a stopped broker or database. */
const CLOSED = '127.0.0.1:1';
const CLOSED_DB = `postgres://postgres@${CLOSED}/closed`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function syncCtl(args: readonly string[], env: Record<string, string>): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A TCP server that accepts connections and never answers; counts them. */
async function silentServer(): Promise<{ server: Server; address: string; connections: () => number; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    s.on('error', () => undefined);
    sockets.push(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    address: `127.0.0.1:${port}`,
    connections: () => sockets.length,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('sync-ctl fails fast: unreachable dependencies exit 3, bad arguments exit 2 before any connection', () => {
  const run = uniqueName('h_ctlfast').toLowerCase();
  const system = `crm_${run}`;
  const entity = `${system}.public.users`;
  let pipelineFile: string;
  let db: LegacyDatabase;
  let base: Record<string, string>;
  const timings: string[] = [];

  before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sync-ctl-fail-fast-'));
    pipelineFile = path.join(dir, 'pipeline.yaml');
    writeFileSync(pipelineFile, readFileSync(path.join(repoRoot, 'examples', 'new-service', 'pipeline.demo.yaml'), 'utf8').replaceAll('${RUN}', run));
    db = await LegacyDatabase.create('h_ctlfast');
    base = { PIPELINE_FILE: pipelineFile, KAFKA_BROKERS: CLOSED, CRM_DATABASE_URL: CLOSED_DB, SERVICE_DATABASE_URL: CLOSED_DB };
  });

  after(async () => {
    await db?.drop();
    if (timings.length) console.log(`sync-ctl with its dependency down (default connect timeout 5 s):\n${timings.join('\n')}`);
  });

  it('every command exits 3 within 10 s with one line naming the unreachable dependency and its address', async () => {
    const real = testDatabaseUrl('postgres');
    const cases: Array<{ args: string[]; env?: Record<string, string>; dependency: string; line: RegExp }> = [
      ...[['status'], ['pause', entity], ['resume', entity], ['enable', entity], ['disable', entity], ['resnapshot', entity], ['history'], ['history', entity]].map((args) => ({ args, dependency: 'kafka', line: /Kafka unreachable at 127\.0\.0\.1:1: no connection within 5 s \(last error: .*ECONNREFUSED/ })),
      { args: ['status'], env: { KEYMAP_DATABASE_URL: CLOSED_DB }, dependency: 'kafka', line: /Kafka unreachable at 127\.0\.0\.1:1/ },
      ...[['dlq', 'list', '--json'], ['dlq', 'show', 'dlq.legacy-writeback/0/1', '--json'], ['dlq', 'replay', '--all', '--dry-run', '--json'], ['dlq', 'purge', '--app', 'legacy-writeback', '--all', '--dry-run', '--json']].map((args) => ({ args, dependency: 'kafka', line: /Kafka unreachable at 127\.0\.0\.1:1/ })),
      { args: ['schema', '--apply', '--json'], dependency: 'legacy-db', line: new RegExp(`legacy database ${system} unreachable at 127\\.0\\.0\\.1:1/closed: .*ECONNREFUSED`) },
      { args: ['ids', 'lookup', '--global-id', 'g-1', '--json'], env: { KEYMAP_DATABASE_URL: CLOSED_DB }, dependency: 'keymap-db', line: /key map database unreachable at 127\.0\.0\.1:1\/closed/ },
      { args: ['ids', 'migrate', '--database-url', CLOSED_DB, '--json'], dependency: 'keymap-db', line: /key map database unreachable at 127\.0\.0\.1:1\/closed/ },
      { args: ['verify', 'users', '--json'], env: { KEYMAP_DATABASE_URL: CLOSED_DB }, dependency: 'keymap-db', line: /key map database unreachable at 127\.0\.0\.1:1\/closed/ },
      { args: ['verify', 'users', '--keymap-url', real, '--json'], dependency: 'new-side-db', line: /new side database unreachable at 127\.0\.0\.1:1\/closed/ },
      { args: ['verify', '--all', '--keymap-url', real, '--new-side-url', real, '--json'], dependency: 'legacy-db', line: new RegExp(`legacy database ${system} unreachable at 127\\.0\\.0\\.1:1/closed`) },
    ];
    for (const c of cases) {
      const res = await syncCtl(c.args, { ...base, ...c.env });
      const name = `sync-ctl ${c.args.join(' ')}`;
      const shown = `${Object.keys(c.env ?? {}).map((k) => `${k}=<closed> `).join('')}${name.replaceAll(real, '<postgres>').replaceAll(CLOSED_DB, '<closed>')}`;
      timings.push(`  ${shown.padEnd(80)} exit ${res.code}  ${(res.ms / 1000).toFixed(1)} s`);
      assert.equal(res.code, 3, `${name}: exit code\n${res.stderr}`);
      assert.ok(res.ms < 10_000, `${name}: took ${res.ms} ms`);
      const lines = res.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `${name}: one line on stderr, got:\n${res.stderr}`);
      const command = c.args.filter((a) => !a.startsWith('-')).slice(0, c.args[0] === 'dlq' || c.args[0] === 'ids' ? 2 : 1);
      assert.match(lines[0]!, new RegExp(`^sync-ctl ${command[0] === 'ids' ? 'ids' : command.join(' ')}: `), name);
      assert.match(lines[0]!, c.line, name);
      assert.doesNotMatch(res.stderr, /\n\s+at /, `${name}: no stack trace`);
      assert.doesNotMatch(res.stderr, /postgres@|password/, `${name}: no credentials`);
      if (c.args.includes('--json')) {
        const doc = JSON.parse(res.stdout) as { ok: boolean; error: { code: number; kind: string; dependency: string; address: string; message: string } };
        assert.deepEqual([doc.ok, doc.error.code, doc.error.kind, doc.error.dependency], [false, 3, 'unreachable', c.dependency], name);
        assert.match(doc.error.address, /^127\.0\.0\.1:1/);
        assert.equal(`${doc.error.message}`, lines[0]!.replace(/^sync-ctl [^:]+: /, ''));
      }
    }
  });

  it('a dependency that accepts the connection but never answers is given up after --connect-timeout / SYNC_CTL_CONNECT_TIMEOUT', async () => {
    const silent = await silentServer();
    try {
      const kafka = await syncCtl(['status', '--connect-timeout', '2'], { ...base, KAFKA_BROKERS: silent.address });
      assert.equal(kafka.code, 3, kafka.stderr);
      assert.match(kafka.stderr, new RegExp(`^sync-ctl status: Kafka unreachable at ${silent.address}: no connection within 2 s`));
      assert.ok(kafka.ms >= 2000 && kafka.ms < 8000, `took ${kafka.ms} ms`);
      const keymap = await syncCtl(['ids', 'lookup', '--global-id', 'g'], { ...base, KEYMAP_DATABASE_URL: `postgres://postgres@${silent.address}/x`, SYNC_CTL_CONNECT_TIMEOUT: '1.5' });
      assert.equal(keymap.code, 3, keymap.stderr);
      assert.match(keymap.stderr, new RegExp(`^sync-ctl ids: key map database unreachable at ${silent.address}/x: no connection within 1.5 s\\n$`));
      assert.ok(keymap.ms >= 1500 && keymap.ms < 8000, `took ${keymap.ms} ms`);
      assert.ok(silent.connections() >= 2, 'both did connect');
      const bad = await syncCtl(['status'], { ...base, SYNC_CTL_CONNECT_TIMEOUT: 'soon' });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /SYNC_CTL_CONNECT_TIMEOUT.*use a number of seconds from 0\.1 to 600/);
    } finally {
      await silent.close();
    }
  });

  it('bad arguments exit 2 at once, without a single connection to Kafka or a database', async () => {
    const trap = await silentServer();
    const trapDb = `postgres://postgres@${trap.address}/trap`;
    try {
      const env = { ...base, KAFKA_BROKERS: trap.address, CRM_DATABASE_URL: trapDb, SERVICE_DATABASE_URL: trapDb, KEYMAP_DATABASE_URL: trapDb, SYNC_CTL_CONNECT_TIMEOUT: '60' };
      const cases: Array<{ args: string[]; says: RegExp }> = [
        { args: ['status', 'extra'], says: /unexpected argument "extra"/ },
        { args: ['status', '--frobnicate'], says: /Unknown option '--frobnicate'/ },
        { args: ['pause'], says: /name the entity/ },
        { args: ['pause', 'nope.public.users'], says: /entity "nope\.public\.users" is not in the pipeline file/ },
        { args: ['pause', entity, '--direction', 'sideways'], says: /--direction sideways/ },
        { args: ['resume', entity, entity], says: /unexpected argument/ },
        { args: ['enable', entity, '--reason'], says: /argument missing|--reason/ },
        { args: ['disable'], says: /name the entity/ },
        { args: ['resnapshot', 'crm.users'], says: /is not in the pipeline file/ },
        { args: ['history', 'nope.public.users'], says: /is not in the pipeline file/ },
        { args: ['schema', '--apply', '--system', 'nope'], says: /--system nope: no such system/ },
        { args: ['map'], says: /--input FILE is required/ },
        { args: ['ids', 'lookup', '--system', system, '--table', 'users'], says: /give --system, --table and --key, or --global-id/ },
        { args: ['ids', 'lookup', '--system', system, '--table', 'users', '--key', '{bad'], says: /--key \{bad: not valid JSON/ },
        { args: ['ids', 'lookup', '--system', system, '--table', 'nope', '--key', '1'], says: /--table nope: no such table/ },
        { args: ['ids', 'frob'], says: /expected "lookup" or "migrate"/ },
        { args: ['verify', 'nope'], says: /entity "nope" is not in the verify section/ },
        { args: ['verify', 'users', '--rechecks', 'many'], says: /--rechecks many/ },
        { args: ['dlq', 'list', '--since', 'yesterday'], says: /--since/ },
        { args: ['dlq', 'show', 'not-an-id'], says: /is not a dead-letter id/ },
        { args: ['dlq', 'replay'], says: /name what to replay/ },
        { args: ['dlq', 'purge', '--app', 'legacy-writeback', '--all'], says: /add --yes/ },
        { args: ['completion', 'fish'], says: /unknown shell "fish"/ },
        { args: ['frobnicate'], says: /unknown command "frobnicate"/ },
        { args: ['status', '--connect-timeout', 'soon'], says: /--connect-timeout "soon"/ },
      ];
      for (const c of cases) {
        const name = `sync-ctl ${c.args.join(' ')}`;
        const res = await syncCtl([...c.args, '--json'], env);
        assert.equal(res.code, 2, `${name}: exit code\n${res.stderr}`);
        // Far below the 60 s connect timeout: nothing waited for a connection (the trap counts them).
        assert.ok(res.ms < 15_000, `${name}: took ${res.ms} ms`);
        const doc = JSON.parse(res.stdout) as { ok: boolean; error: { code: number; kind: string; message: string } };
        assert.deepEqual([doc.ok, doc.error.code, doc.error.kind], [false, 2, 'usage'], name);
        assert.match(doc.error.message, c.says, name);
        assert.match(res.stderr.split('\n')[0]!, c.says, name);
        assert.doesNotMatch(res.stderr, /\n\s+at /, `${name}: no stack trace`);
      }
      assert.equal(trap.connections(), 0, 'no command connected anywhere');
    } finally {
      await trap.close();
    }
  });

  it('--json on every command prints its documented shape (real Kafka and PostgreSQL)', async () => {
    await db.exec('CREATE TABLE users (id int PRIMARY KEY, name text, email text, street text, city text, zip text)');
    await db.exec('CREATE TABLE orders (id int PRIMARY KEY, user_id int, total numeric, placed_at timestamptz)');
    const env = { ...base, KAFKA_BROKERS: testBrokers().join(','), CRM_DATABASE_URL: db.url, KEYMAP_DATABASE_URL: db.url };
    const json = async (args: string[], codes: number[] = [0]): Promise<unknown> => {
      const res = await syncCtl([...args, '--json'], env);
      assert.ok(codes.includes(res.code ?? -1), `sync-ctl ${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
      return JSON.parse(res.stdout) as unknown;
    };

    const paused = (await json(['pause', entity, '--direction', 'legacy-to-new', '--reason', 'json test', '--by', 'test'])) as Array<Record<string, unknown>>;
    assert.deepEqual(paused.map((m) => [m['entity'], m['direction'], m['state'], m['reason'], m['by']]), [[entity, 'legacy-to-new', 'paused', 'json test', 'test']]);
    assert.equal(((await json(['resume', entity])) as unknown[]).length, 2);
    assert.equal(((await json(['disable', entity, '--direction', 'new-to-legacy'])) as Array<{ state: string }>)[0]!.state, 'disabled');
    assert.equal(((await json(['enable', entity, '--direction', 'new-to-legacy'])) as Array<{ state: string }>)[0]!.state, 'enabled');
    assert.deepEqual(((await json(['resnapshot', entity])) as Array<{ action: string; entity: string }>).map((m) => [m.entity, m.action]), [[entity, 'resnapshot']]);
    const history = (await json(['history', entity])) as Array<{ entity: string }>;
    assert.ok(history.length >= 5 && history.every((m) => m.entity === entity));
    assert.ok(Array.isArray(((await json(['ids', 'migrate'])) as { migrated: string[] }).migrated));
    // 1 when other runs left dead letters in the shared dlq.* topics.
    const status = (await json(['status'], [0, 1])) as { entities: Array<Record<string, unknown>>; deadLetters: Record<string, number> };
    const row = status.entities.find((e) => e['entity'] === entity)!;
    assert.deepEqual([row['legacyToNew'], row['newToLegacy'], row['parked']], ['enabled', 'enabled', 0]);
    assert.deepEqual(Object.keys(status.deadLetters).sort(), ['domain-transform', 'id-translation', 'legacy-import', 'legacy-writeback']);

    const schema = (await json(['schema', '--apply'])) as { systems: Array<{ system: string; dialect: string; statements: string[]; applied: boolean }> };
    assert.deepEqual(schema.systems.map((s) => [s.system, s.dialect, s.applied]), [[system, 'postgres', true]]);
    assert.ok(schema.systems[0]!.statements.length > 0);
    assert.deepEqual(await json(['ids', 'lookup', '--global-id', 'no-such-id'], [1]), []);
    assert.ok(Array.isArray(await json(['dlq', 'list', '--app', 'legacy-writeback', '--entity', entity])));
    const mapped = (await json(['map', '--pipeline', path.join(repoRoot, 'test/fixtures/mappings/users.pipeline.yaml'), '--input', path.join(repoRoot, 'test/fixtures/mappings/keyed-user-update.json')])) as { outputs: unknown[]; skipped: unknown[] };
    assert.ok(Array.isArray(mapped.outputs) && Array.isArray(mapped.skipped));
    const spec = (await json(['completion'])) as { commands: Array<{ path: string[] }> };
    assert.ok(spec.commands.some((c) => c.path.join(' ') === 'dlq replay'));
  });
});
