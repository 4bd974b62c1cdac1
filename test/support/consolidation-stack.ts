import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePipeline } from '@sync/config';
import { applyDdl, changelogDdl, createLegacyDb } from '@sync/legacy-db';
import { AppProcess } from './app-process';
import { LegacyDatabase } from './legacy-database';
import { testBrokers, uniqueName } from './test-env';
import { waitFor } from './wait-for';

/** The same two tables in both sources and in the hub; keys collide between the sources. */
export const CONSOLIDATION_SCHEMA_SQL = `
CREATE TABLE customers (
  id serial PRIMARY KEY,
  email text,
  name text NOT NULL
);
CREATE TABLE orders (
  id serial PRIMARY KEY,
  customer_id int NOT NULL REFERENCES customers (id),
  ref text NOT NULL,
  total numeric(10, 2) NOT NULL
);`;

export interface ConsolidationNames {
  readonly a: string;
  readonly b: string;
  readonly hub: string;
  readonly prefix: string;
}

const PIPELINE_HEAD = (n: ConsolidationNames): string => `version: 1
kafka:
  clientId: ${n.prefix}
  topics: { partitions: 3 }        # so that two id-translation replicas share every table
idTranslation:
  groupPrefix: ${n.prefix}_idt
domainTransform:
  groupPrefix: ${n.prefix}_dt
`;

/** A source system: customers merge by e-mail with the other systems (group person); orders point at customers. */
function sourceSystem(name: string, urlVariable: string): string {
  return `  ${name}:
    dialect: postgres
    connection: { url: { env: ${urlVariable} } }
    tables:
      - name: customers
        key: [id]
        merge: { group: person, on: [email] }
        capture: { mode: trigger, pollIntervalMs: 100 }
      - name: orders
        key: [id]
        capture: { mode: trigger, pollIntervalMs: 100 }
        foreignKeys:
          - columns: [customer_id]
            references: { table: customers, columns: [id] }
`;
}

/** The target: it generates its own keys; legacy-writeback reports them on idmap.links. */
function hubSystem(name: string): string {
  return `  ${name}:
    dialect: postgres
    connection: { url: { env: HUB_DATABASE_URL } }
    tables:
      - name: customers
        key: [id]
        generatedKey: true
        merge: { group: person, on: [email] }
      - name: orders
        key: [id]
        generatedKey: true
        foreignKeys:
          - columns: [customer_id]
            references: { table: customers, columns: [id] }
`;
}

function replicationRules(source: string, hub: string): string {
  return `  - name: ${source}-customers
    from: { system: ${source}, table: customers }
    to: { system: ${hub}, table: customers }
    columns: { email: email, name: name }
  - name: ${source}-orders
    from: { system: ${source}, table: orders }
    to: { system: ${hub}, table: orders }
    columns: { ref: ref, total: total }
    references: { customer_id: customer_id }
`;
}

/**
 * The pipeline files of a consolidation, one per deployment: legacy-import reads the sources,
 * legacy-writeback writes the hub, id-translation and domain-transform see all three systems and
 * the replication rules A→HUB and B→HUB.
 */
export function consolidationPipelines(n: ConsolidationNames): { importer: string; translation: string; writeback: string } {
  const head = PIPELINE_HEAD(n);
  const sources = sourceSystem(n.a, 'A_DATABASE_URL') + sourceSystem(n.b, 'B_DATABASE_URL');
  return {
    importer: `${head}systems:\n${sources}`,
    translation: `${head}systems:\n${sources}${hubSystem(n.hub)}replication:\n${replicationRules(n.a, n.hub)}${replicationRules(n.b, n.hub)}`,
    writeback: `${head}systems:\n${hubSystem(n.hub)}`,
  };
}

type Role = 'legacy-import' | 'id-translation' | 'domain-transform' | 'legacy-writeback';

/** Sources A and B, target HUB and the key map as throwaway databases; the apps as processes. */
export class ConsolidationStack {
  readonly names: ConsolidationNames;
  private readonly files: Record<'importer' | 'translation' | 'writeback', string>;
  /** Running processes by label (`id-translation-1` ...). */
  readonly apps = new Map<string, AppProcess>();
  /** Every process started, including killed ones, for logs. */
  private readonly started: AppProcess[] = [];

  private constructor(readonly a: LegacyDatabase, readonly b: LegacyDatabase, readonly hub: LegacyDatabase, readonly keymap: LegacyDatabase) {
    const tag = uniqueName('c').toLowerCase().replace(/[^a-z0-9]/g, '').slice(-12);
    this.names = { a: `a_${tag}`, b: `b_${tag}`, hub: `hub_${tag}`, prefix: `e2e_cons_${tag}` };
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sync-consolidation-'));
    const texts = consolidationPipelines(this.names);
    this.files = { importer: '', translation: '', writeback: '' };
    for (const [role, text] of Object.entries(texts) as Array<[keyof typeof texts, string]>) {
      const file = path.join(dir, `${role}.pipeline.yaml`);
      writeFileSync(file, text);
      parsePipeline(text, file); // fail here, with the path, rather than in a child process
      this.files[role] = file;
    }
  }

  static async create(): Promise<ConsolidationStack> {
    const dbs = await Promise.all(['e2e_cons_a', 'e2e_cons_b', 'e2e_cons_hub', 'e2e_cons_keymap'].map((p) => LegacyDatabase.create(p)));
    const stack = new ConsolidationStack(dbs[0]!, dbs[1]!, dbs[2]!, dbs[3]!);
    try {
      const pipeline = parsePipeline(consolidationPipelines(stack.names).translation, 'translation.pipeline.yaml');
      for (const [db, system] of [[stack.a, stack.names.a], [stack.b, stack.names.b], [stack.hub, stack.names.hub]] as const) {
        await db.exec(CONSOLIDATION_SCHEMA_SQL);
        // What `sync-ctl schema --apply` installs: capture triggers, and the write-back inbox.
        const legacyDb = createLegacyDb({ system, dialect: 'postgres', url: { reveal: () => db.url }, poolSize: 1 }, () => undefined);
        try {
          await applyDdl(legacyDb, changelogDdl(pipeline.systems.get(system)!));
        } finally {
          await legacyDb.close();
        }
      }
    } catch (err) {
      await stack.close();
      throw err;
    }
    return stack;
  }

  private env(role: Role): Record<string, string> {
    const file = role === 'legacy-import' ? this.files.importer : role === 'legacy-writeback' ? this.files.writeback : this.files.translation;
    return {
      KAFKA_BROKERS: testBrokers().join(','),
      PIPELINE_FILE: file,
      A_DATABASE_URL: this.a.url,
      B_DATABASE_URL: this.b.url,
      HUB_DATABASE_URL: this.hub.url,
      KEYMAP_DATABASE_URL: this.keymap.url,
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: '10000',
    };
  }

  /** Starts one process of `role` under `label` and waits until it is ready. */
  async start(label: string, role: Role): Promise<AppProcess> {
    const app = await AppProcess.start(role, this.env(role));
    this.apps.set(label, app);
    this.started.push(app);
    await waitFor(`${label} ready`, async () => (await app.status('/health/ready')) === 200 || (app.isRunning() ? undefined : Promise.reject(new Error(app.logs()))), 90_000, 250);
    return app;
  }

  app(label: string): AppProcess {
    const app = this.apps.get(label);
    if (!app) throw new Error(`${label} is not running`);
    return app;
  }

  logs(): string {
    return this.started.map((a) => `--- ${a.app} (pid ${a.proc.pid ?? '?'})\n${a.logs().slice(-3000)}`).join('\n');
  }

  async close(): Promise<void> {
    await Promise.all([...this.apps.values()].map((a) => a.stop('SIGTERM', 15_000).catch(() => undefined)));
    for (const db of [this.a, this.b, this.hub, this.keymap]) await db.drop().catch(() => undefined);
  }
}
