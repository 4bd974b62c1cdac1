import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigValidationError, loadEnv, parsePipeline, resolveKafkaSettings, type AppName, type KafkaSettings } from '@sync/config';
import { ACL_ROLES, kafkaAcls, Topics, type AclRole } from '@sync/contracts';
import { kafkaAccessProblem, type KafkaConnection, type InboundMessage, type KafkaConnectionOptions } from '@sync/kafka';
import { AppProcess } from '../../support/app-process';
import { repoRoot, testKafkaConnection, uniqueName } from '../../support/test-env';
import { waitFor } from '../../support/wait-for';

// A real secured broker (scripts/kafka-secure.sh: SASL_SSL SCRAM-SHA-512 and mTLS listeners,
// StandardAuthorizer) started by this file (ports 19392-19394 by default, below the ephemeral port range so a client socket cannot hold one), with the ACLs `sync-ctl acls
// --apply` creates. Skipped only when java is missing.
const SCRIPT = path.join(repoRoot, 'scripts', 'kafka-secure.sh');
const javaMissing = spawnSync('java', ['-version'], { stdio: 'ignore' }).error !== undefined;
const RUN_ID = uniqueName('sec').replace(/_/g, '');
// A reused broker (KAFKA_SECURE_DIR of one already running) is left running; one started here is stopped.
const reuse = process.env['KAFKA_SECURE_DIR'];
const dir = reuse ?? mkdtempSync(path.join(tmpdir(), 'kafka-secure-'));
const work = mkdtempSync(path.join(tmpdir(), 'kafka-secure-test-'));
// The script's ports (KAFKA_SECURE_SASL_PORT / _MTLS_PORT / _CONTROLLER_PORT; defaults 19392-19394).
const SASL = `127.0.0.1:${process.env['KAFKA_SECURE_SASL_PORT'] ?? '19392'}`;
const MTLS = `127.0.0.1:${process.env['KAFKA_SECURE_MTLS_PORT'] ?? '19393'}`;
const SYSTEM = RUN_ID;
const table = { system: SYSTEM, schema: 'public', table: 'users' };

type Mode = 'scram' | 'mtls';
const password = (p: string): string => readFileSync(path.join(dir, 'secrets', `${p}.password`), 'utf8').trim();
const tlsFile = (name: string): string => path.join(dir, 'tls', name);

/** A pipeline file as deployments write it: TLS material and SASL secrets by reference (mounted files, env). */
function pipelineFile(name: string, kafka: string): string {
  const file = path.join(work, `${name}.pipeline.yaml`);
  writeFileSync(
    file,
    `version: 1
kafka:
  clientId: ${RUN_ID}
${kafka}
systems:
  ${SYSTEM}:
    dialect: postgres
    connection: { url: { env: LEGACY_DATABASE_URL } }
    tables:
      - name: users
        key: [id]
`,
  );
  return file;
}

function scramKafka(passwordFile: string, ca = tlsFile('ca.crt')): string {
  return `  tls: { ca: { file: ${ca} } }
  sasl: { mechanism: scram-sha-512, username: { env: KAFKA_USERNAME }, password: { file: ${passwordFile} } }`;
}

function mtlsKafka(principal: string, ca = tlsFile('ca.crt')): string {
  return `  tls: { ca: { file: ${ca} }, cert: { file: ${tlsFile(`${principal}.crt`)} }, key: { file: ${tlsFile(`${principal}.key`)} } }`;
}

/** The settings an app builds at boot (resolveKafkaSettings), for `principal` over `mode`. */
function settingsFor(principal: string, mode: Mode, app?: AppName): { options: KafkaConnectionOptions; file: string; env: Record<string, string> } {
  const passwordFile = path.join(dir, 'secrets', `${principal}.password`);
  const file = pipelineFile(`${principal}-${mode}`, mode === 'scram' ? scramKafka(passwordFile) : mtlsKafka(principal));
  const env = { KAFKA_BROKERS: mode === 'scram' ? SASL : MTLS, ...(mode === 'scram' ? { KAFKA_USERNAME: principal } : {}) };
  // id-translation's environment names its key-map database (not connected to here).
  const appEnv = app ? { SYNC_APP: app, ...(app === 'id-translation' ? { KEYMAP_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' } : {}) } : {};
  const settings: KafkaSettings = resolveKafkaSettings(parsePipeline(readFileSync(file, 'utf8'), file), loadEnv({ ...env, ...appEnv }), env);
  return {
    options: { brokers: settings.brokers, clientId: `${settings.clientId}-${app ?? principal}`, ...(settings.tls ? { tls: settings.tls } : {}), ...(settings.sasl ? { sasl: settings.sasl } : {}) },
    file,
    env,
  };
}

function syncCtl(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [path.join(repoRoot, 'dist', 'apps', 'sync-ctl', 'src', 'main.js'), ...args], {
    cwd: repoRoot,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', SYNC_CTL_CONNECT_TIMEOUT: '30', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.on('exit', (code) => resolve({ code, stdout, stderr })));
}

async function withConnection<T>(options: KafkaConnectionOptions, work: (c: KafkaConnection) => Promise<T>): Promise<T> {
  const connection = testKafkaConnection({ ...options, connectionTimeoutMs: 10_000 });
  return work(connection);
}

/** Produces one record per topic with `principal`'s producer. */
async function produce(options: KafkaConnectionOptions, topics: readonly string[], value: string): Promise<void> {
  await withConnection(options, async (c) => {
    const producer = c.producer();
    await producer.connect();
    try {
      await producer.send(topics.map((topic) => ({ topic, key: 'k', value })));
    } finally {
      await producer.disconnect();
    }
  });
}

/** Consumes `topic` in consumer group `groupId` until `value` arrives, with libs/kafka's batch consumer. */
async function consume(options: KafkaConnectionOptions, topic: string, groupId: string, value: string): Promise<void> {
  await withConnection(options, async (c) => {
    const producer = c.producer();
    const seen: InboundMessage[] = [];
    const runner = c.batchConsumer(producer, { app: 'sec-test', groupId, topics: [topic], fromBeginning: true, handler: async (batch) => void seen.push(...batch) });
    await runner.start();
    try {
      await waitFor(`${value} in ${topic} (group ${groupId})`, () => seen.some((m) => m.value?.toString() === value), 60_000, 200);
    } finally {
      await runner.stop();
    }
  });
}

const admin = (): KafkaConnectionOptions => settingsFor('admin', 'scram').options;

/** What each role writes and reads (its own topics and consumer groups), as the apps do. */
const ROLE_IO: Record<AclRole, { writes: string[]; reads?: { topic: string; group: string } }> = {
  'legacy-import': { writes: [Topics.legacy(table), Topics.offsets], reads: { topic: Topics.offsets, group: `topic-reader-${RUN_ID}` } },
  'id-translation': { writes: [Topics.keyed(table), Topics.resolved(table)], reads: { topic: Topics.legacy(table), group: `id-translation.legacy-${RUN_ID}` } },
  'domain-transform': { writes: [Topics.domain(`${RUN_ID}user`, 1), Topics.writeback(table)], reads: { topic: Topics.keyed(table), group: `domain-transform.forward-${RUN_ID}` } },
  'legacy-writeback': { writes: [Topics.idmapLinks, Topics.conflicts], reads: { topic: Topics.resolved(table), group: `legacy-writeback.${SYSTEM}` } },
  console: { writes: [], reads: { topic: Topics.offsets, group: `console-${RUN_ID}` } },
  'sync-ctl': { writes: [Topics.control, Topics.controlHistory], reads: { topic: Topics.controlHistory, group: `topic-reader-${RUN_ID}` } },
};

describe('a secured, authorised broker (SASL_SSL SCRAM-SHA-512, mTLS, ACLs per app principal)', { skip: javaMissing ? 'java is not installed: the secured broker cannot run' : false }, () => {
  let started = false;

  before(async () => {
    mkdirSync(work, { recursive: true });
    if (reuse === undefined) {
      // Bounded: the script waits at most KAFKA_SECURE_DEADLINE for the broker, the test a bit longer.
      const up = spawnSync('bash', [SCRIPT, 'up'], { env: { ...process.env, KAFKA_SECURE_DIR: dir, KAFKA_SECURE_DEADLINE: '240' }, encoding: 'utf8', timeout: 300_000 });
      assert.equal(up.status, 0, `scripts/kafka-secure.sh up failed:\n${up.stderr}`);
      started = true;
    }
    // The topics of this run, created by the super user (auto-creation is off on a secured broker).
    await withConnection(admin(), async (c) => {
      const topicAdmin = c.admin();
      await topicAdmin.ensureTopics(
        [Topics.legacy(table), Topics.keyed(table), Topics.writeback(table), Topics.resolved(table), Topics.domain(`${RUN_ID}user`, 1), Topics.offsets, Topics.conflicts, Topics.idmapLinks, Topics.control, Topics.controlHistory, Topics.status].map((topic) => ({ topic })),
      );
      await topicAdmin.disconnect();
    });
    // The ACLs, applied the way operators do: sync-ctl acls --apply with the super user's credentials.
    const { file, env } = settingsFor('admin', 'scram');
    const applied = await syncCtl(['acls', '--apply', '--pipeline', file], env);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stderr, /created \d+ ACL bindings/);
  });

  after(() => {
    if (started) spawnSync('bash', [SCRIPT, 'down'], { env: { ...process.env, KAFKA_SECURE_DIR: dir }, stdio: 'ignore', timeout: 60_000 });
    if (started) rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  for (const mode of ['scram', 'mtls'] as const) {
    for (const role of ACL_ROLES) {
      it(`${role} connects over ${mode === 'scram' ? 'SCRAM-SHA-512 over TLS' : 'mTLS'}, writes its topics and reads its input in its own group`, async () => {
        const io = ROLE_IO[role];
        const value = uniqueName(`${role}-${mode}`);
        const app = role === 'console' || role === 'sync-ctl' ? undefined : role;
        // The input is written by whoever may write it (the super user stands in for the upstream app).
        if (io.reads) await produce(admin(), [io.reads.topic], value);
        const { options } = settingsFor(role, mode, app);
        if (io.writes.length > 0) await produce(options, io.writes, value);
        if (io.reads) await consume(options, io.reads.topic, `${io.reads.group}-${mode}`, value);
      });
    }
  }

  it('the write path into the legacy database is closed: only domain-transform may produce to writeback.*', async () => {
    const acls = kafkaAcls({ idTranslationGroupPrefix: 'id-translation', domainTransformGroupPrefix: 'domain-transform' });
    for (const principal of ['legacy-import', 'id-translation', 'legacy-writeback', 'console', 'sync-ctl', 'outsider']) {
      for (const mode of ['scram', 'mtls'] as const) {
        const { options } = settingsFor(principal, mode);
        const err = await produce(options, [Topics.writeback(table)], 'forged command').then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err !== undefined, `${principal} (${mode}) could produce to ${Topics.writeback(table)}`);
        assert.equal(kafkaAccessProblem(err)?.kind, 'authorization', `${principal} (${mode}): ${String(err)}`);
        assert.ok(!acls.some((a) => a.principal === `User:${principal}` && a.resourceName === 'writeback.' && a.operation === 'write'));
      }
    }
    // legacy-writeback reads only its command topics: not the requests before id-translation resolved them.
    await withConnection(settingsFor('legacy-writeback', 'scram', 'legacy-writeback').options, async (c) => {
      const crashes: unknown[] = [];
      const runner = c.batchConsumer(c.producer(), {
        app: 'sec-test',
        groupId: `legacy-writeback.${RUN_ID}-wb`,
        topics: [Topics.writeback(table)],
        handler: async () => assert.fail('legacy-writeback read a write-back request'),
        hooks: { onCrash: (err) => void crashes.push(err) },
      });
      await runner.start().catch((err: unknown) => crashes.push(err));
      try {
        await waitFor('the consumer refused', () => crashes.some((e) => kafkaAccessProblem(e)?.kind === 'authorization'), 60_000, 200);
      } finally {
        await runner.stop();
      }
    });
  });

  // The app processes and sync-ctl below run on their configured client (kafkajs), whatever
  // KAFKA_TEST_CLIENT says: they belong to the kafkajs run of this file only. Its Confluent re-run
  // (confluent/secured-broker.test.ts) covers the in-process producers and consumers above.
  if (process.env['KAFKA_TEST_CLIENT'] !== 'confluent') {
    it('a real app process (domain-transform) becomes ready over SCRAM-SHA-512 and over mTLS', async () => {
      for (const mode of ['scram', 'mtls'] as const) {
        const { file, env } = settingsFor('domain-transform', mode, 'domain-transform');
        const app = await AppProcess.start('domain-transform', { ...env, PIPELINE_FILE: file, LOG_LEVEL: 'warn' });
        try {
          await waitFor(`domain-transform ready over ${mode}`, async () => (await app.status('/health/ready')) === 200 || (app.isRunning() ? undefined : Promise.reject(new Error(app.logs()))), 120_000, 500);
        } finally {
          assert.equal(await app.stop(), 0, app.logs());
        }
      }
    });

    it('sync-ctl works as its own principal over SCRAM-SHA-512 and over mTLS', async () => {
      for (const mode of ['scram', 'mtls'] as const) {
        const { file, env } = settingsFor('sync-ctl', mode);
        const res = await syncCtl(['pause', `${SYSTEM}.public.users`, '--reason', 'secured broker test', '--pipeline', file], env);
        assert.equal(res.code, 0, `${mode}: ${res.stderr}`);
        const status = await syncCtl(['status', '--json', '--pipeline', file], env);
        assert.ok(status.code === 0 || status.code === 1, `${mode}: ${status.stderr}`);
        assert.match(status.stdout, /"entities"/);
      }
    });

    it('a wrong password: a clear error, readiness false, then exit code 4 (the app) or 3 (sync-ctl)', async () => {
      const wrong = path.join(work, 'wrong.password');
      writeFileSync(wrong, 'not-the-password\n');
      const file = pipelineFile('wrong-password', scramKafka(wrong));
      const env = { KAFKA_BROKERS: SASL, KAFKA_USERNAME: 'domain-transform', PIPELINE_FILE: file, KAFKA_ACCESS_FAILURE_EXIT_MS: '15000', LOG_LEVEL: 'warn' };
      const app = await AppProcess.start('domain-transform', env);
      const ready = await waitFor('a readiness answer naming the refusal', async () => {
        const res = await app.json('/health/ready').catch(() => undefined);
        return res && JSON.stringify(res.body).includes('kafka refused the connection') ? res : undefined;
      }, 60_000, 300);
      assert.equal(ready.status, 503);
      assert.match(JSON.stringify(ready.body), /SASL credentials/);
      assert.equal(await app.waitExit(90_000), 4, app.logs());
      assert.match(app.logs(), /Kafka refused the SASL credentials/);
      assert.ok(!app.logs().includes('not-the-password'), 'the password was logged');

      const cli = await syncCtl(['status', '--pipeline', file], { KAFKA_BROKERS: SASL, KAFKA_USERNAME: 'sync-ctl' });
      assert.equal(cli.code, 3, cli.stderr);
      assert.match(cli.stderr, /authentication failed/i);
    });

    it('an untrusted certificate, either way: a clear error, readiness false, exit code 4', async () => {
      const cases = [
        // The client does not trust the broker (its CA file names another CA).
        { name: 'untrusted-broker', kafka: scramKafka(path.join(dir, 'secrets', 'domain-transform.password'), tlsFile('rogue-ca.crt')), brokers: SASL, expect: /broker's TLS certificate is not trusted/ },
        // The broker does not trust the client's certificate (signed by a CA it does not know).
        { name: 'untrusted-client', kafka: `  tls: { ca: { file: ${tlsFile('ca.crt')} }, cert: { file: ${tlsFile('rogue.crt')} }, key: { file: ${tlsFile('rogue.key')} } }`, brokers: MTLS, expect: /broker refused the TLS handshake/ },
      ];
      for (const c of cases) {
        const file = pipelineFile(c.name, c.kafka);
        const app = await AppProcess.start('domain-transform', { KAFKA_BROKERS: c.brokers, KAFKA_USERNAME: 'domain-transform', PIPELINE_FILE: file, KAFKA_ACCESS_FAILURE_EXIT_MS: '5000', LOG_LEVEL: 'warn' });
        const ready = await waitFor(`${c.name}: a readiness answer naming the refusal`, async () => {
          const res = await app.json('/health/ready').catch(() => undefined);
          return res && JSON.stringify(res.body).includes('kafka refused the connection') ? res : undefined;
        }, 150_000, 300);
        assert.equal(ready.status, 503);
        assert.match(JSON.stringify(ready.body), c.expect);
        // kafkajs retries a failed TLS connection about 40 s within one attempt; the app gives up after its second.
        assert.equal(await app.waitExit(180_000), 4, app.logs());
        assert.match(app.logs(), c.expect);
      }
    });

    it('SASL PLAIN without TLS is refused before connecting (exit code 2), unless KAFKA_ALLOW_PLAINTEXT_SASL=true', async () => {
      const file = pipelineFile('plain', '  sasl: { mechanism: plain, username: { env: KAFKA_USERNAME }, password: { env: KAFKA_PASSWORD } }');
      const env = { KAFKA_BROKERS: SASL, KAFKA_USERNAME: 'domain-transform', KAFKA_PASSWORD: password('domain-transform'), PIPELINE_FILE: file };
      const app = await AppProcess.start('domain-transform', env);
      assert.equal(await app.waitExit(60_000), 2, app.logs());
      assert.match(app.logs(), /kafka\.sasl\.mechanism: SASL PLAIN without TLS sends the password in clear text/);
      assert.ok(!app.logs().includes(password('domain-transform')));
      const cli = await syncCtl(['status', '--pipeline', file], env);
      assert.equal(cli.code, 2, cli.stderr);
      assert.match(cli.stderr, /SASL PLAIN without TLS/);
      assert.throws(() => settingsFor('x', 'scram') && resolveKafkaSettings(parsePipeline(readFileSync(file, 'utf8'), file), loadEnv({ KAFKA_BROKERS: SASL }), env), ConfigValidationError);
      const allowed = resolveKafkaSettings(parsePipeline(readFileSync(file, 'utf8'), file), loadEnv({ KAFKA_BROKERS: SASL, KAFKA_ALLOW_PLAINTEXT_SASL: 'true' }), env);
      assert.equal(allowed.sasl?.mechanism, 'plain');
    });
  }
});
