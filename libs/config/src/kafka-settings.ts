import { deepFreeze } from './deep-freeze';
import type { AppEnv } from './env.schema';
import type { KafkaClientName, PipelineConfig, SaslMechanism, TopicSettings } from './pipeline.types';
import type { EnvSource, Secret } from './secret';
import { SecretCollector, type ResolvedTls } from './secret-collector';

/** Kafka connection settings with environment overrides applied and every secret read. */
export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Client library for producers and consumers: KAFKA_CLIENT, else the pipeline's kafka.client (default kafkajs). */
  readonly client: KafkaClientName;
  /** Present when TLS is enabled. */
  readonly tls?: ResolvedTls;
  readonly sasl?: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: Secret };
  readonly topics: TopicSettings;
}

/**
 * Merges the pipeline's kafka section with KAFKA_BROKERS / KAFKA_CLIENT_ID (the environment wins)
 * and reads TLS files and SASL secrets. Throws ConfigValidationError listing every problem,
 * including an empty broker list.
 */
export function resolveKafkaSettings(
  pipeline: PipelineConfig,
  env: AppEnv,
  secretEnv: EnvSource = process.env,
): KafkaSettings {
  const kafka = pipeline.kafka;
  const secrets = new SecretCollector(secretEnv);

  const brokers = env.kafka.brokers ?? kafka.brokers;
  if (brokers.length === 0) {
    secrets.report({
      path: 'kafka.brokers',
      message: 'no Kafka brokers: set KAFKA_BROKERS or kafka.brokers in the pipeline file',
    });
  }
  const tls = secrets.readTls(kafka.tls, 'kafka.tls');
  if (kafka.tls.enabled && (kafka.tls.cert === undefined) !== (kafka.tls.key === undefined)) {
    const [given, missing] = kafka.tls.cert === undefined ? ['key', 'cert'] : ['cert', 'key'];
    secrets.report({ path: `kafka.tls.${missing}`, message: `is required when kafka.tls.${given} is set (a client certificate and its private key go together)` });
  }
  if (kafka.sasl?.mechanism === 'plain' && !kafka.tls.enabled && !env.kafka.allowPlaintextSasl) {
    secrets.report({
      path: 'kafka.sasl.mechanism',
      message:
        'SASL PLAIN without TLS sends the password in clear text: enable kafka.tls, use scram-sha-512, ' +
        'or set KAFKA_ALLOW_PLAINTEXT_SASL=true to accept it knowingly',
    });
  }
  let sasl: KafkaSettings['sasl'];
  if (kafka.sasl !== undefined) {
    const { mechanism, username: usernameRef, password: passwordRef } = kafka.sasl;
    const username =
      typeof usernameRef === 'string' ? usernameRef : secrets.read(usernameRef, 'kafka.sasl.username')?.reveal();
    const password = secrets.read(passwordRef, 'kafka.sasl.password');
    if (username !== undefined && password !== undefined) sasl = { mechanism, username, password };
  }
  secrets.throwIfAny('Cannot resolve Kafka settings');

  return deepFreeze({
    brokers: [...brokers],
    clientId: env.kafka.clientId ?? kafka.clientId ?? 'legacy-sync',
    client: env.kafka.client ?? kafka.client,
    ...(tls !== undefined && { tls }),
    ...(sasl !== undefined && { sasl }),
    topics: { ...kafka.topics, retentionHours: { ...kafka.topics.retentionHours } },
  });
}
