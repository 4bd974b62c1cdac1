import { resolveKafkaSettings, type AppEnv, type PipelineConfig } from '@sync/config';
import { KafkaConnection, silentLog, type SyncProducer, type TopicAdmin } from '@sync/kafka';

/** A short-lived Kafka link for one command; always closed, even when the command fails. */
export async function withKafka<T>(pipeline: PipelineConfig, env: AppEnv, work: (k: { connection: KafkaConnection; producer: SyncProducer; admin: TopicAdmin }) => Promise<T>): Promise<T> {
  const settings = resolveKafkaSettings(pipeline, env);
  const connection = new KafkaConnection(
    { brokers: settings.brokers, clientId: `${settings.clientId}-sync-ctl`, connectionTimeoutMs: 5000, ...(settings.tls ? { tls: settings.tls } : {}), ...(settings.sasl ? { sasl: settings.sasl } : {}) },
    silentLog,
  );
  const producer = connection.producer();
  const admin = connection.admin();
  try {
    await producer.connect();
    await admin.connect();
    return await work({ connection, producer, admin });
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
