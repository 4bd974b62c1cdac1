import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigValidationError, loadEnv, parsePipeline, resolveKafkaSettings, TOPIC_RETENTION_HOURS } from '@sync/config';

const dir = mkdtempSync(join(tmpdir(), 'config-kafka-'));
const CA = join(dir, 'ca.pem');
const CERT = join(dir, 'cert.pem');
const KEY = join(dir, 'key.pem');
writeFileSync(CA, '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n');
writeFileSync(CERT, 'CERT\n');
writeFileSync(KEY, 'PRIVATE KEY\n');

const pipelineWith = (kafka: string): ReturnType<typeof parsePipeline> =>
  parsePipeline(
    `version: 1
${kafka}
systems:
  crm:
    dialect: postgres
    connection: { host: db, database: crm }
    tables: [{ name: users, key: [id], capture: { mode: trigger } }]
`,
    'kafka.yaml',
  );

describe('resolveKafkaSettings', () => {
  it('takes the client library from kafka.client, KAFKA_CLIENT overriding it, kafkajs by default', () => {
    const env = loadEnv({ SYNC_APP: 'legacy-import' });
    assert.equal(resolveKafkaSettings(pipelineWith('kafka: { brokers: ["b:9092"] }'), env, {}).client, 'kafkajs');
    const confluent = pipelineWith('kafka: { brokers: ["b:9092"], client: confluent }');
    assert.equal(resolveKafkaSettings(confluent, env, {}).client, 'confluent');
    assert.equal(resolveKafkaSettings(confluent, loadEnv({ KAFKA_CLIENT: 'kafkajs' }), {}).client, 'kafkajs');
  });

  it('rejects an unknown client library, naming the setting', () => {
    assert.throws(() => pipelineWith('kafka: { brokers: ["b:9092"], client: librdkafka }'), (err: unknown) => err instanceof ConfigValidationError && /kafka\.client/.test(err.message) && /kafkajs, confluent/.test(err.message));
    assert.throws(() => loadEnv({ KAFKA_CLIENT: 'node-rdkafka' }), (err: unknown) => err instanceof ConfigValidationError && /KAFKA_CLIENT\b/.test(err.message));
  });

  it('lets KAFKA_BROKERS and KAFKA_CLIENT_ID override the pipeline file', () => {
    const pipeline = pipelineWith('kafka: { brokers: ["file-broker:9092"], clientId: from-file }');
    const fromFile = resolveKafkaSettings(pipeline, loadEnv({ SYNC_APP: 'legacy-import' }), {});
    assert.deepEqual(fromFile, { brokers: ['file-broker:9092'], clientId: 'from-file', client: 'kafkajs', topics: { retentionHours: TOPIC_RETENTION_HOURS } });
    const fromEnv = resolveKafkaSettings(
      pipeline,
      loadEnv({ KAFKA_BROKERS: 'env-a:9092,env-b:9092', KAFKA_CLIENT_ID: 'from-env' }),
      {},
    );
    assert.deepEqual(fromEnv.brokers, ['env-a:9092', 'env-b:9092']);
    assert.equal(fromEnv.clientId, 'from-env');
  });

  it('defaults the client id when neither file nor environment sets it', () => {
    const pipeline = pipelineWith('kafka: { brokers: ["b:9092"] }');
    assert.equal(resolveKafkaSettings(pipeline, loadEnv({ SYNC_APP: 'legacy-writeback' }), {}).clientId, 'legacy-sync');
  });

  it('fails when no broker is configured anywhere', () => {
    assert.throws(
      () => resolveKafkaSettings(pipelineWith(''), loadEnv({}), {}),
      (error: unknown) =>
        error instanceof ConfigValidationError &&
        error.issues.length === 1 &&
        error.issues[0]?.path === 'kafka.brokers',
    );
  });

  it('reads TLS files and SASL secrets', () => {
    const pipeline = pipelineWith(`kafka:
  brokers: ["b:9093"]
  tls: { ca: { file: ${CA} }, cert: { file: ${CERT} }, key: { file: ${KEY} } }
  sasl: { mechanism: scram-sha-512, username: { env: KAFKA_USER }, password: { env: KAFKA_PASSWORD } }
  topics: { partitions: 6 }`);
    const settings = resolveKafkaSettings(pipeline, loadEnv({}), { KAFKA_USER: 'sync', KAFKA_PASSWORD: 'kafka-pw-9' });
    assert.equal(settings.tls?.ca, '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----');
    assert.equal(settings.tls?.cert, 'CERT');
    assert.equal(settings.tls?.key?.reveal(), 'PRIVATE KEY');
    assert.equal(settings.tls?.rejectUnauthorized, true);
    assert.equal(settings.sasl?.mechanism, 'scram-sha-512');
    assert.equal(settings.sasl?.username, 'sync');
    assert.equal(settings.sasl?.password.reveal(), 'kafka-pw-9');
    assert.deepEqual(settings.topics, { partitions: 6, retentionHours: TOPIC_RETENTION_HOURS });
    assert.ok(!JSON.stringify(settings).includes('kafka-pw-9'));
    assert.ok(!JSON.stringify(settings).includes('PRIVATE KEY'));
  });

  it('lists every secret it could not read', () => {
    const pipeline = pipelineWith(`kafka:
  brokers: ["b:9093"]
  tls: { ca: { file: ${join(dir, 'missing-ca.pem')} } }
  sasl: { mechanism: plain, username: sync, password: { env: KAFKA_PASSWORD } }`);
    assert.throws(
      () => resolveKafkaSettings(pipeline, loadEnv({}), {}),
      (error: unknown) => {
        assert.ok(error instanceof ConfigValidationError);
        assert.deepEqual(
          error.issues.map((issue) => issue.path),
          ['kafka.tls.ca', 'kafka.sasl.password'],
        );
        assert.match(error.message, /environment variable KAFKA_PASSWORD is not set/);
        return true;
      },
    );
  });
});
