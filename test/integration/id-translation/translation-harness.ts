import { Client } from 'pg';
import { parsePipeline, type PipelineConfig } from '@sync/config';
import { KafkaConnection, silentLog, type SyncProducer, type TopicAdmin } from '@sync/kafka';
import { connectKeymap, createKeymapDataSource, KeymapRepository, TableIndex } from '@sync/keymap';
import { MetricsRegistry } from '@sync/observability';
import type { DataSource } from 'typeorm';
import { LegacyTranslator } from '../../../apps/id-translation/src/legacy.translator';
import { TranslationConsumer } from '../../../apps/id-translation/src/translation.consumer';
import { TranslationMetrics } from '../../../apps/id-translation/src/translation-metrics';
import { WritebackTranslator } from '../../../apps/id-translation/src/writeback.translator';
import { testBrokers, testDatabaseUrl, uniqueName } from '../../support/test-env';
import { waitFor } from '../../support/wait-for';

/** A throwaway key-map database. */
export async function createDatabase(prefix: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix).toLowerCase();
  const admin = new Client({ connectionString: testDatabaseUrl('postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`).finally(() => admin.end());
  return {
    name,
    url: testDatabaseUrl(name),
    async drop() {
      const c = new Client({ connectionString: testDatabaseUrl('postgres') });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => c.end());
    },
  };
}

/** One id-translation replica in this process: its own Kafka clients, pool and caches, real broker and database. */
export class TranslationReplica {
  private constructor(
    readonly metrics: MetricsRegistry,
    readonly consumer: TranslationConsumer,
    readonly dataSource: DataSource,
    readonly writeback: WritebackTranslator,
    private readonly producer: SyncProducer,
    private readonly admin: TopicAdmin,
  ) {}

  static async start(pipeline: PipelineConfig, databaseUrl: string): Promise<TranslationReplica> {
    const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'it-id-translation' }, silentLog);
    const producer = connection.producer();
    await producer.connect();
    const admin = connection.admin();
    const dataSource = createKeymapDataSource(databaseUrl, { poolSize: 4 });
    await connectKeymap(dataSource);
    const registry = new MetricsRegistry('id-translation');
    const metrics = new TranslationMetrics(registry);
    const index = new TableIndex(pipeline);
    const repository = new KeymapRepository(dataSource);
    const settings = pipeline.idTranslation;
    const legacy = new LegacyTranslator(index, repository, settings.cacheSize, metrics, { mergeWaitMs: settings.mergeWaitMs });
    const writeback = new WritebackTranslator(index, repository, (r) => producer.send(r), { app: 'id-translation', parkTimeoutMs: settings.parkTimeoutMs, cacheSize: settings.cacheSize, log: silentLog, metrics });
    const consumer = new TranslationConsumer(index, legacy, writeback, repository, connection, producer, admin, { app: 'id-translation', groupPrefix: settings.groupPrefix, parkTimeoutMs: settings.parkTimeoutMs, log: silentLog, metrics });
    await consumer.start();
    await waitFor('translation consumers assigned', () => consumer.problem() === undefined, 60_000);
    return new TranslationReplica(registry, consumer, dataSource, writeback, producer, admin);
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
    await this.producer.disconnect();
    await this.admin.disconnect();
    await this.dataSource.destroy();
  }
}

export function pipeline(yaml: string): PipelineConfig {
  return parsePipeline(yaml, 'it-id-translation.yaml');
}

/** A Debezium-style change event as legacy-import publishes it. */
export function changeEvent(system: string, table: string, op: 'c' | 'r' | 'u' | 'd', row: Record<string, unknown>, position: number): string {
  return JSON.stringify({
    op,
    before: op === 'c' || op === 'r' ? null : row,
    after: op === 'd' ? null : row,
    source: { system, schema: 'public', table, position: String(position), committedAt: '2025-01-01T00:00:00.000Z', txId: null },
    ts_ms: position,
  });
}

export function writebackRequest(system: string, table: string, commandId: string, globalId: string, columns: Record<string, unknown>, references: Record<string, string | null> = {}): string {
  return JSON.stringify({ commandId, op: 'upsert', system, schema: 'public', table, globalId, columns, references, occurredAt: '2025-01-01T00:00:00.000Z', origin: 'service:it', causationId: `cause-${commandId}` });
}
