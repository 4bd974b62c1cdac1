/**
 * Recognises the broker refusing this client: wrong SASL credentials, a TLS certificate one side
 * does not trust, or an ACL that denies the request. Retrying does not cure these; the app says so
 * in its readiness and, for credentials and certificates, exits (docs/security.md).
 */
export type KafkaAccessKind = 'authentication' | 'tls' | 'authorization';

export interface KafkaAccessProblem {
  readonly kind: KafkaAccessKind;
  /** One sentence naming the cause and what to check; never a secret. */
  readonly message: string;
}

// Node / OpenSSL codes of a server certificate the client does not trust.
const UNTRUSTED_SERVER = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

// TLS alerts the broker sends when it refuses the client's certificate (or gets none).
const CLIENT_CERT_ALERT = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNKNOWN_CA|CERTIFICATE_REQUIRED|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|HANDSHAKE_FAILURE)$/;

const AUTHORIZATION_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
]);

interface ErrorFields {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly originalError?: unknown;
}

/** The error and the errors it wraps (kafkajs nests them in `cause` and `originalError`). */
function chain(err: unknown): ErrorFields[] {
  const out: ErrorFields[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && out.length < 10) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || out.includes(e as ErrorFields)) continue;
    const fields = e as ErrorFields;
    out.push(fields);
    queue.push(fields.cause, fields.originalError);
  }
  return out;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** What kind of refusal `err` is, or undefined for any other failure (unreachable broker, timeout ...). */
export function kafkaAccessProblem(err: unknown): KafkaAccessProblem | undefined {
  const errors = chain(err);
  for (const e of errors) {
    const name = text(e.name);
    const type = text(e.type);
    const message = text(e.message);
    if (name === 'KafkaJSSASLAuthenticationError' || type === 'SASL_AUTHENTICATION_FAILED' || /SASL .*authentication failed/i.test(message)) {
      return {
        kind: 'authentication',
        message: `Kafka refused the SASL credentials (${firstLine(message) || 'authentication failed'}): check kafka.sasl.username and kafka.sasl.password`,
      };
    }
  }
  for (const e of errors) {
    const code = text(e.code);
    if (UNTRUSTED_SERVER.has(code)) {
      return {
        kind: 'tls',
        message: `the broker's TLS certificate is not trusted (${code}): check kafka.tls.ca names the CA that signed it, and that it covers the broker's address`,
      };
    }
    if (CLIENT_CERT_ALERT.test(code)) {
      return {
        kind: 'tls',
        message: `the broker refused the TLS handshake (${code}): check kafka.tls.cert and kafka.tls.key hold a client certificate signed by a CA the broker trusts`,
      };
    }
  }
  for (const e of errors) {
    const type = text(e.type);
    const message = text(e.message);
    // librdkafka (the Confluent client) names the same broker errors with an ERR_ prefix.
    if (AUTHORIZATION_TYPES.has(type.replace(/^ERR_/, '')) || /not authorized to access|\b(?:topic|group|cluster|transactional id) authorization failed/i.test(message)) {
      return {
        kind: 'authorization',
        message: `Kafka denied the request (${type || firstLine(message)}): the principal lacks an ACL (docs/security.md lists what each app needs)`,
      };
    }
  }
  return undefined;
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0]!.trim();
}
