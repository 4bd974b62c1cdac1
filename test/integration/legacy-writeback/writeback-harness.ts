import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parsePipeline, type SystemConfig } from '@sync/config';
import { Topics, type WritebackCommand } from '@sync/contracts';
import { KafkaConnection, silentLog, type SyncProducer } from '@sync/kafka';
import { applyDdl, changelogDdl, createLegacyDb } from '@sync/legacy-db';
import { AppProcess } from '../../support/app-process';
import { startLegacyImport } from '../../support/legacy-import-app';
import { testBrokers, uniqueName } from '../../support/test-env';
import { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import type { TestLegacyDb, WritebackDialect } from './writeback-dialects';

/**
 * A legacy database of one dialect with capture and inbox installed (changelogDdl, as
 * `sync-ctl schema --apply` does), its pipeline file, a producer for resolved.* commands and the
 * write-back (and optionally legacy-import) as separate processes.
 */
export class WritebackHarness {
  readonly system = uniqueName('wb').toLowerCase().slice(0, 30);
  readonly pipelineFile: string;
  readonly apps: AppProcess[] = [];
  readonly config: SystemConfig;
  private readonly connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'test-writeback' }, silentLog);
  private producer: SyncProducer | undefined;
  private collector: TopicCollector | undefined;
  private proxy: DbProxy | undefined;

  private constructor(readonly dialect: WritebackDialect, readonly db: TestLegacyDb, private readonly tablesYaml: string) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sync-writeback-'));
    this.pipelineFile = path.join(dir, 'pipeline.yaml');
    writeFileSync(this.pipelineFile, this.pipelineText());
    this.config = parsePipeline(this.pipelineText(), 'harness').systems.get(this.system)!;
  }

  pipelineText(): string {
    return `version: 1\nsystems:\n  ${this.system}:\n    dialect: ${this.dialect.dialect}\n    connection:\n      url: { env: LEGACY_DATABASE_URL }\n    tables:\n${this.tablesYaml}`;
  }

  /** Creates the database, the scenario's tables (`setup`, statements in this dialect) and the suite's capture objects. */
  static async create(dialect: WritebackDialect, setup: readonly string[], tablesYaml: string): Promise<WritebackHarness> {
    const db = await dialect.createDatabase();
    try {
      await db.setup(setup);
      const harness = new WritebackHarness(dialect, db, tablesYaml);
      const legacy = createLegacyDb({ system: harness.system, dialect: dialect.dialect, url: { reveal: () => db.url }, poolSize: 2 }, () => undefined);
      try {
        await applyDdl(legacy, changelogDdl(harness.config));
      } finally {
        await legacy.close();
      }
      return harness;
    } catch (err) {
      await db.drop().catch(() => undefined);
      throw err;
    }
  }

  /** Schema of the legacy tables (the dialect's default). */
  get schema(): string {
    return this.dialect.schema;
  }

  /** The trigger changelog of a table, qualified for queries. */
  changelog(table: string): string {
    const config = this.config.tables.find((t) => t.name === table);
    if (!config) throw new Error(`no table ${table} in the harness pipeline`);
    return this.dialect.changelog(this.config, config);
  }

  resolvedTopic(table: string, schema = this.schema): string {
    return Topics.resolved({ system: this.system, schema, table });
  }

  legacyTopic(table: string, schema = this.schema): string {
    return Topics.legacy({ system: this.system, schema, table });
  }

  /** A command for this system; override anything. */
  command(table: string, op: 'upsert' | 'delete', key: Record<string, unknown>, columns: Record<string, unknown>, extra: Partial<WritebackCommand> = {}): WritebackCommand {
    const id = randomUUID();
    return {
      commandId: `cmd-${id}`,
      op,
      system: this.system,
      schema: this.schema,
      table,
      globalId: `g-${id}`,
      key,
      columns,
      occurredAt: new Date().toISOString(),
      origin: 'svc:orders',
      causationId: `evt-${id}`,
      ...extra,
    };
  }

  async send(commands: readonly WritebackCommand[]): Promise<void> {
    if (!this.producer) {
      this.producer = this.connection.producer();
      await this.producer.connect();
      const admin = this.connection.admin();
      const topics = [...new Set(commands.map((c) => Topics.resolved(c)))];
      await admin.ensureTopics(topics.map((topic) => ({ topic })));
      await admin.disconnect();
    }
    await this.producer.send(commands.map((c) => ({ topic: Topics.resolved(c), key: c.globalId, value: JSON.stringify(c) })));
  }

  async sendRaw(topic: string, value: string, key = 'k'): Promise<void> {
    if (!this.producer) {
      this.producer = this.connection.producer();
      await this.producer.connect();
    }
    await this.producer.send([{ topic, key, value }]);
  }

  /** Collects idmap.links, sync.conflicts, dlq.legacy-writeback and the given topics from their start. */
  async collect(extraTopics: string[] = []): Promise<TopicCollector> {
    this.collector = await new TopicCollector().start([Topics.idmapLinks, Topics.conflicts, Topics.dlq('legacy-writeback'), ...extraTopics]);
    return this.collector;
  }

  /** Values on a shared topic that belong to this harness's system. */
  mine(collector: TopicCollector, topic: string): Array<Record<string, unknown>> {
    return collector
      .on(topic)
      .map((i) => i.value as Record<string, unknown>)
      .filter((v) => v !== null && typeof v === 'object' && v['system'] === this.system);
  }

  async inboxCount(): Promise<number> {
    const rows = await this.db.exec<{ n: string }>('SELECT CAST(COUNT(*) AS varchar(20)) AS n FROM sync.inbox');
    return Number(rows[0]!.n);
  }

  async startWriteback(options: { viaProxy?: boolean; env?: Record<string, string> } = {}): Promise<AppProcess> {
    let url = this.db.url;
    if (options.viaProxy) {
      this.proxy ??= await DbProxy.start(new URL(this.db.url), this.dialect.defaultPort);
      const u = new URL(this.db.url);
      u.hostname = '127.0.0.1';
      u.port = String(this.proxy.port);
      url = u.toString();
    }
    const app = await AppProcess.start('legacy-writeback', {
      KAFKA_BROKERS: testBrokers().join(','),
      PIPELINE_FILE: this.pipelineFile,
      LEGACY_DATABASE_URL: url,
      LOG_LEVEL: 'warn',
      ...(options.env ?? {}),
    });
    this.apps.push(app);
    await waitFor('legacy-writeback ready', async () => (await app.status('/health/ready')) === 200 || (app.isRunning() ? undefined : Promise.reject(new Error(app.logs()))), 60_000, 200);
    return app;
  }

  dbProxy(): DbProxy {
    if (!this.proxy) throw new Error('no proxy: start the write-back with viaProxy');
    return this.proxy;
  }

  async startImporter(): Promise<AppProcess> {
    const app = await startLegacyImport({ PIPELINE_FILE: this.pipelineFile, LEGACY_DATABASE_URL: this.db.url, ADMIN_TOKEN: 'test-admin-token' });
    this.apps.push(app);
    return app;
  }

  async close(): Promise<void> {
    for (const app of this.apps) await app.stop('SIGKILL').catch(() => undefined);
    await this.collector?.stop().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await this.proxy?.close();
    await this.db.drop().catch(() => undefined);
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of the legacy database, for one app only: `cut()` destroys every open
 * connection and refuses new ones, which is what the app sees when its database goes down; the
 * shared cluster keeps running for everyone else. `restore()` lets connections through again.
 */
export class DbProxy {
  private readonly sockets = new Set<net.Socket>();
  private open = true;

  private constructor(private readonly server: net.Server, readonly port: number) {}

  static async start(target: URL, defaultPort: number): Promise<DbProxy> {
    const ref: { proxy?: DbProxy } = {};
    const server = net.createServer((client) => {
      const proxy = ref.proxy;
      if (!proxy?.open) {
        client.destroy();
        return;
      }
      const upstream = net.connect(Number(target.port || defaultPort), target.hostname);
      for (const s of [client, upstream]) {
        proxy.sockets.add(s);
        s.on('close', () => proxy.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ref.proxy = new DbProxy(server, (server.address() as net.AddressInfo).port);
    return ref.proxy;
  }

  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.open = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
