import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigValidationError, loadEnv, parsePipeline, resolveKafkaSettings } from '@sync/config';

const dir = mkdtempSync(join(tmpdir(), 'config-kafka-sec-'));
const CERT = join(dir, 'cert.pem');
const KEY = join(dir, 'key.pem');
writeFileSync(CERT, 'CERT\n');
writeFileSync(KEY, 'PRIVATE KEY\n');

const pipelineWith = (kafka: string): ReturnType<typeof parsePipeline> =>
  parsePipeline(
    `version: 1
kafka:
  brokers: ["b:9093"]
${kafka}
systems:
  crm:
    dialect: postgres
    connection: { host: db, database: crm }
    tables: [{ name: users, key: [id], capture: { mode: trigger } }]
`,
    'kafka.yaml',
  );

function issues(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (error: unknown) {
    assert.ok(error instanceof ConfigValidationError);
    return error.issues.map((i) => ({ path: i.path, message: i.message }));
  }
  assert.fail('no ConfigValidationError');
}

const secrets = { KAFKA_PASSWORD: 'pw-123456' };

describe('Kafka security settings', () => {
  it('refuses SASL PLAIN without TLS, naming the path and the way out, and never the password', () => {
    const found = issues(() => resolveKafkaSettings(pipelineWith('  sasl: { mechanism: plain, username: app, password: { env: KAFKA_PASSWORD } }'), loadEnv({}), secrets));
    assert.equal(found.length, 1);
    assert.equal(found[0]!.path, 'kafka.sasl.mechanism');
    assert.match(found[0]!.message, /SASL PLAIN without TLS sends the password in clear text.*KAFKA_ALLOW_PLAINTEXT_SASL=true/);
    assert.ok(!JSON.stringify(found).includes('pw-123456'));
  });

  it('accepts SASL PLAIN without TLS when KAFKA_ALLOW_PLAINTEXT_SASL=true, and PLAIN over TLS', () => {
    const plain = pipelineWith('  sasl: { mechanism: plain, username: app, password: { env: KAFKA_PASSWORD } }');
    assert.equal(resolveKafkaSettings(plain, loadEnv({ KAFKA_ALLOW_PLAINTEXT_SASL: 'true' }), secrets).sasl?.mechanism, 'plain');
    const overTls = pipelineWith('  tls: { enabled: true }\n  sasl: { mechanism: plain, username: app, password: { env: KAFKA_PASSWORD } }');
    assert.equal(resolveKafkaSettings(overTls, loadEnv({}), secrets).sasl?.mechanism, 'plain');
  });

  it('accepts SCRAM-SHA-512 over TLS with the username from the environment and the password from a mounted file', () => {
    const pw = join(dir, 'password');
    writeFileSync(pw, 'scram-secret\n');
    const settings = resolveKafkaSettings(
      pipelineWith(`  tls: { enabled: true }\n  sasl: { mechanism: scram-sha-512, username: { env: KAFKA_USERNAME }, password: { file: ${pw} } }`),
      loadEnv({}),
      { KAFKA_USERNAME: 'legacy-import' },
    );
    assert.deepEqual([settings.sasl?.mechanism, settings.sasl?.username, settings.sasl?.password.reveal()], ['scram-sha-512', 'legacy-import', 'scram-secret']);
    assert.ok(!JSON.stringify(settings).includes('scram-secret'));
  });

  it('refuses a client certificate without its key (and a key without its certificate)', () => {
    assert.deepEqual(
      issues(() => resolveKafkaSettings(pipelineWith(`  tls: { cert: { file: ${CERT} } }`), loadEnv({}), {})).map((i) => i.path),
      ['kafka.tls.key'],
    );
    assert.deepEqual(
      issues(() => resolveKafkaSettings(pipelineWith(`  tls: { key: { file: ${KEY} } }`), loadEnv({}), {})).map((i) => i.path),
      ['kafka.tls.cert'],
    );
    const mtls = resolveKafkaSettings(pipelineWith(`  tls: { cert: { file: ${CERT} }, key: { file: ${KEY} } }`), loadEnv({}), {});
    assert.equal(mtls.tls?.cert, 'CERT');
    assert.equal(mtls.tls?.key?.reveal(), 'PRIVATE KEY');
  });

  it('validates KAFKA_ALLOW_PLAINTEXT_SASL and KAFKA_ACCESS_FAILURE_EXIT_MS', () => {
    assert.deepEqual(
      issues(() => loadEnv({ KAFKA_ALLOW_PLAINTEXT_SASL: 'yes', KAFKA_ACCESS_FAILURE_EXIT_MS: '10' })).map((i) => i.path).sort(),
      ['KAFKA_ACCESS_FAILURE_EXIT_MS', 'KAFKA_ALLOW_PLAINTEXT_SASL'],
    );
    assert.equal(loadEnv({}).kafka.accessFailureExitMs, 60_000);
    assert.equal(loadEnv({}).kafka.allowPlaintextSasl, false);
  });
});
