import { resolveKafkaSettings, type PipelineConfig } from '@sync/config';
import { topicPolicy } from '@sync/contracts';
import { KafkaConnection, type LogSink, type SyncProducer, type TopicAdmin } from '@sync/kafka';
import type { CommandIo } from '../command';
import { reach } from '../dependency';

/** Keeps kafkajs' last warning or error, for the one-line "unreachable" message; logs nothing. */
function lastErrorLog(): { log: LogSink; last(): string | undefined } {
  let last: string | undefined;
  // The log bridge folds kafkajs' error pair into one warning carrying the cause in `error`.
  const keep = (obj: object, msg?: string) => {
    const cause = (obj as { error?: unknown }).error;
    if (msg) last = typeof cause === 'string' && cause.length > 0 ? `${msg}: ${cause}` : msg;
  };
  return { log: { debug: () => {}, info: () => {}, warn: keep, error: keep }, last: () => last };
}

/**
 * A short-lived Kafka link for one command; always closed, even when the command fails. Connecting
 * is bounded by io.connectTimeoutMs: kafkajs alone would retry a refused broker for about 40 s
 * (retry.retries 8 with backoff up to 10 s, libs/kafka kafka-client.factory.ts) before it rejects.
 */
export async function withKafka<T>(pipeline: PipelineConfig, io: Pick<CommandIo, 'env' | 'connectTimeoutMs'>, work: (k: { connection: KafkaConnection; producer: SyncProducer; admin: TopicAdmin }) => Promise<T>): Promise<T> {
  const settings = resolveKafkaSettings(pipeline, io.env);
  const trace = lastErrorLog();
  const connection = new KafkaConnection(
    {
      brokers: settings.brokers,
      clientId: `${settings.clientId}-sync-ctl`,
      client: settings.client,
      // One attempt must fit in the deadline, or a silent broker would never be reported as such.
      connectionTimeoutMs: Math.min(io.connectTimeoutMs, 5000),
      ...(settings.tls ? { tls: settings.tls } : {}),
      ...(settings.sasl ? { sasl: settings.sasl } : {}),
    },
    trace.log,
  );
  const producer = connection.producer();
  // The pipeline's topic settings: topics sync-ctl creates (control, offsets, status) get them too.
  const admin = connection.admin(topicPolicy(settings.topics));
  const close = async () => {
    // Bounded too: disconnecting a client still retrying its connect can wait for the retries.
    await Promise.race([
      Promise.allSettled([producer.disconnect(), admin.disconnect()]),
      new Promise((resolve) => setTimeout(resolve, 1000).unref()),
    ]);
  };
  try {
    await reach({ kind: 'kafka', label: 'Kafka', address: settings.brokers.join(',') }, io.connectTimeoutMs, () => Promise.all([producer.connect(), admin.connect()]), { lastError: trace.last });
  } catch (err) {
    void close(); // not awaited: sync-ctl's main exits once the command has returned
    throw err;
  }
  try {
    return await work({ connection, producer, admin });
  } finally {
    await close();
  }
}
