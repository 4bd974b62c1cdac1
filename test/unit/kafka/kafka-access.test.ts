import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kafkaAccessProblem } from '@sync/kafka';

// The shapes kafkajs 2.2.4 produced against the secured broker (scripts/kafka-secure.sh).
function wrapped(inner: object): Error {
  const outer = new Error('retries exceeded') as Error & { name: string; cause?: unknown };
  outer.name = 'KafkaJSNumberOfRetriesExceeded';
  outer.cause = inner;
  return outer;
}

describe('kafkaAccessProblem', () => {
  it('recognises a refused SASL password', () => {
    const err = Object.assign(new Error('SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials'), { name: 'KafkaJSSASLAuthenticationError' });
    const p = kafkaAccessProblem(err);
    assert.equal(p?.kind, 'authentication');
    assert.match(p!.message, /Kafka refused the SASL credentials .*check kafka.sasl.username and kafka.sasl.password/);
  });

  it('recognises a broker certificate the client does not trust, inside kafkajs retries', () => {
    const p = kafkaAccessProblem(wrapped(Object.assign(new Error('Connection error: self-signed certificate in certificate chain'), { name: 'KafkaJSConnectionError', code: 'SELF_SIGNED_CERT_IN_CHAIN' })));
    assert.equal(p?.kind, 'tls');
    assert.match(p!.message, /broker's TLS certificate is not trusted \(SELF_SIGNED_CERT_IN_CHAIN\).*kafka.tls.ca/);
  });

  it('recognises the broker refusing the client certificate', () => {
    for (const code of ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED']) {
      const p = kafkaAccessProblem(wrapped({ name: 'KafkaJSConnectionError', message: 'Connection error', code }));
      assert.equal(p?.kind, 'tls', code);
      assert.match(p!.message, /refused the TLS handshake.*kafka.tls.cert and kafka.tls.key/);
    }
  });

  it('recognises an ACL denial', () => {
    const p = kafkaAccessProblem({ name: 'KafkaJSProtocolError', type: 'TOPIC_AUTHORIZATION_FAILED', message: 'Not authorized to access topics: [Topic authorization failed]' });
    assert.equal(p?.kind, 'authorization');
    assert.match(p!.message, /TOPIC_AUTHORIZATION_FAILED.*ACL/);
    assert.equal(kafkaAccessProblem(new Error('Not authorized to access topics: [Topic authorization failed]'))?.kind, 'authorization');
  });

  it("recognises librdkafka's ACL denial (the Confluent client)", () => {
    const p = kafkaAccessProblem({ name: 'KafkaJSProtocolError', type: 'ERR_TOPIC_AUTHORIZATION_FAILED', code: 29, message: 'Broker: Topic authorization failed' });
    assert.equal(p?.kind, 'authorization');
    assert.match(p!.message, /ERR_TOPIC_AUTHORIZATION_FAILED.*ACL/);
    const fatal = new Error('Error: Broker: Cluster authorization failed (the records were dropped: Local: Purged in queue)', { cause: { type: 'ERR__PURGE_QUEUE' } });
    assert.equal(kafkaAccessProblem(fatal)?.kind, 'authorization');
    assert.equal(kafkaAccessProblem(new Error('Local: Purged in queue, after: Error: cluster authorization failed'))?.kind, 'authorization');
    assert.equal(kafkaAccessProblem(new Error('Local: Purged in queue, after: Error: Local: Broker transport failure'))?.kind, undefined);
  });

  it('leaves other failures alone', () => {
    assert.equal(kafkaAccessProblem(wrapped({ name: 'KafkaJSConnectionError', message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', code: 'ECONNREFUSED' })), undefined);
    assert.equal(kafkaAccessProblem(new Error('kafka did not answer within 2500 ms')), undefined);
    assert.equal(kafkaAccessProblem(undefined), undefined);
  });
});
