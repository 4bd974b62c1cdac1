import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { confluentClientConfig, confluentConsumerSettings, confluentProducerSettings, isMessageTooLarge } from '@sync/kafka';

const secret = (value: string) => ({ reveal: () => value });

describe('the Confluent client settings (kafka.client: confluent)', () => {
  it('maps brokers and client id into the kafkaJS block and sets no security on a plain connection', () => {
    const c = confluentClientConfig({ brokers: ['a:9092', 'b:9092'], clientId: 'app' });
    assert.deepEqual(c.kafkaJS['brokers'], ['a:9092', 'b:9092']);
    assert.equal(c.kafkaJS['clientId'], 'app');
    assert.deepEqual(c.rdkafka, {});
  });

  it('maps TLS and SASL onto librdkafka properties, PEM inline and the key revealed only here', () => {
    const c = confluentClientConfig({
      brokers: ['a:9093'],
      clientId: 'app',
      tls: { ca: 'CA-PEM', cert: 'CERT-PEM', key: secret('KEY-PEM'), rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: 'sync', password: secret('pw') },
    });
    assert.deepEqual(c.rdkafka, {
      'security.protocol': 'sasl_ssl',
      'enable.ssl.certificate.verification': true,
      'ssl.endpoint.identification.algorithm': 'https',
      'ssl.ca.pem': 'CA-PEM',
      'ssl.certificate.pem': 'CERT-PEM',
      'ssl.key.pem': 'KEY-PEM',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'sync',
      'sasl.password': 'pw',
    });
    assert.equal(JSON.stringify(c.kafkaJS).includes('pw'), false, 'no secret in the kafkaJS block');
  });

  it('chooses the security protocol from what is configured', () => {
    const tlsOnly = confluentClientConfig({ brokers: ['a:1'], clientId: 'x', tls: { rejectUnauthorized: false } }).rdkafka;
    assert.equal(tlsOnly['security.protocol'], 'ssl');
    assert.equal(tlsOnly['enable.ssl.certificate.verification'], false);
    assert.equal(tlsOnly['ssl.endpoint.identification.algorithm'], 'none');
    const saslOnly = confluentClientConfig({ brokers: ['a:1'], clientId: 'x', sasl: { mechanism: 'plain', username: 'u', password: secret('p') } }).rdkafka;
    assert.equal(saslOnly['security.protocol'], 'sasl_plaintext');
    assert.equal(saslOnly['sasl.mechanisms'], 'PLAIN');
  });

  it('keeps the producer idempotent with acks from all replicas and Java-compatible partitioning', () => {
    const p = confluentProducerSettings({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 } });
    assert.deepEqual(p.kafkaJS, { acks: -1, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 } });
    assert.equal(p.rdkafka['partitioner'], 'murmur2_random');
    // The broker's max.message.bytes decides (as with kafkajs), not librdkafka's own 1,000,000 default.
    assert.equal(p.rdkafka['message.max.bytes'], 1_000_000_000);
  });

  it('moves fromBeginning and autoCommit onto the consumer, where the Confluent client wants them', () => {
    const c = confluentConsumerSettings({ groupId: 'g', sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 1_000 }, { fromBeginning: true, autoCommit: false });
    assert.deepEqual(c.kafkaJS, { groupId: 'g', fromBeginning: true, autoCommit: false, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 1_000 });
    assert.equal(c.rdkafka['js.consumer.max.batch.size'], 1000);
  });

  it("recognises librdkafka's too-large error as well as kafkajs' one", () => {
    assert.equal(isMessageTooLarge({ type: 'ERR_MSG_SIZE_TOO_LARGE' }), true);
    assert.equal(isMessageTooLarge(new Error('x', { cause: { type: 'MESSAGE_TOO_LARGE' } })), true);
    assert.equal(isMessageTooLarge({ type: 'ERR__TRANSPORT' }), false);
  });
});
