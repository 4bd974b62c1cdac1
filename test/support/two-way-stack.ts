import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { APP_NAMES, parsePipeline, type PipelineConfig } from '@sync/config';
import { applyDdl, changelogDdl, createLegacyDb } from '@sync/legacy-db';
import { AppProcess } from './app-process';
import { LegacyDatabase } from './legacy-database';
import { testBrokers, uniqueName } from './test-env';
import { waitFor } from './wait-for';

/** The demo's legacy schema: users also hold the address; orders point at users. */
export const LEGACY_SCHEMA_SQL = `
CREATE TABLE users (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email text,
  street text,
  city text,
  zip text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
  id serial PRIMARY KEY,
  user_id int NOT NULL REFERENCES users (id),
  total numeric(10, 2) NOT NULL,
  placed_at timestamptz NOT NULL DEFAULT now()
);`;

/** Names and options of the two-way pipeline. */
export interface TwoWayPipelineOptions {
  system: string;
  userAggregate: string;
  orderAggregate: string;
  /** Kafka client id, and the prefix of the consumer groups of id-translation and domain-transform. */
  groupPrefix: string;
  /** The `verify:` section, if any (twoWayVerifyYaml). */
  verify?: string;
  /** Capture poll interval of both tables; 100 ms unless given. */
  pollIntervalMs?: number;
  /** Deletes in both directions: UserRemoved (and back) and OrderRemoved. */
  deletes?: boolean;
}

/**
 * The two-way pipeline of the demo, the e2e test and the fault suite for one legacy PostgreSQL
 * system: users → UserChanged + AddressChanged (and back), orders → OrderPlaced. Names are
 * parameters so that every test run has its own topics and consumer groups on the shared broker.
 */
export function twoWayPipelineYaml(options: TwoWayPipelineOptions): string {
  const { system, userAggregate, orderAggregate, groupPrefix, pollIntervalMs = 100, deletes = false } = options;
  const userRemoved = deletes ? `
      - type: UserRemoved
        on: [d]` : '';
  const userRemovedBack = deletes ? `
      - event: UserRemoved
        target: { system: ${system}, table: users }
        op: delete` : '';
  const orderRemoved = deletes ? `
      - type: OrderRemoved
        on: [d]` : '';
  return `version: 1
kafka:
  clientId: ${groupPrefix}
idTranslation:
  groupPrefix: ${groupPrefix}_idt
domainTransform:
  groupPrefix: ${groupPrefix}_dt
systems:
  ${system}:
    dialect: postgres
    connection:
      url: { env: CRM_DATABASE_URL }
    tables:
      - name: users
        key: [id]
        generatedKey: true
        conflictPolicy: last-writer-wins
        capture: { mode: trigger, pollIntervalMs: ${pollIntervalMs} }
      - name: orders
        key: [id]
        capture: { mode: trigger, pollIntervalMs: ${pollIntervalMs} }
        foreignKeys:
          - columns: [user_id]
            references: { table: users, columns: [id] }
mappings:
  users:
    source: { system: ${system}, table: users }
    aggregate: ${userAggregate}
    events:
      - type: UserChanged
        fields: { name: name, email: email }
        schema:
          type: object
          required: [name]
          properties:
            name: { type: string, minLength: 1 }
            email: { type: [string, "null"] }
          additionalProperties: false
      - type: AddressChanged
        fields: { street: street, city: city, zip: zip }
        schema:
          type: object
          properties:
            street: { type: [string, "null"] }
            city: { type: [string, "null"] }
            zip: { type: [string, "null"] }
          additionalProperties: false${userRemoved}
    reverse:
      - event: UserChanged
        target: { system: ${system}, table: users }
        columns: { name: name, email: email }
      - event: AddressChanged
        target: { system: ${system}, table: users }
        columns: { street: street, city: city, zip: zip }${userRemovedBack}
  orders:
    source: { system: ${system}, table: orders }
    aggregate: ${orderAggregate}
    events:
      - type: OrderPlaced
        on: [c, u, r]
        fields:
          userId: $references.user_id
          total: { expr: total, type: string }
          placedAt: { expr: placed_at, type: date }${orderRemoved}
${options.verify ?? ''}`;
}

/** The verify section for the e2e pipeline: the sample new service's tables (examples/new-service) as the new side. */
export function twoWayVerifyYaml(system: string, rangeBits?: number): string {
  return `verify:
  newSide:
    connection: { url: { env: SERVICE_DATABASE_URL } }${rangeBits === undefined ? '' : `
  rangeBits: ${rangeBits}`}
  entities:
    users:
      source: { system: ${system}, table: users }
      mapping: users
      tables: { users: id, addresses: user_id }
      fields:
        users.name: UserChanged.name
        users.email: UserChanged.email
        addresses.street: AddressChanged.street
        addresses.city: AddressChanged.city
        addresses.zip: AddressChanged.zip
    orders:
      source: { system: ${system}, table: orders }
      tables: { orders: id }
      fields:
        orders.user_id: OrderPlaced.userId
        orders.total: OrderPlaced.total
        orders.placed_at: OrderPlaced.placedAt
`;
}

/** A legacy database with the demo schema and capture installed, a key-map database, the pipeline file and the four apps. */
export class TwoWayStack {
  readonly system = uniqueName('crm').toLowerCase().slice(0, 30);
  readonly userAggregate = uniqueName('user').toLowerCase();
  readonly orderAggregate = uniqueName('order').toLowerCase();
  readonly groupPrefix = uniqueName('e2e');
  readonly apps = new Map<string, AppProcess>();
  readonly pipelineFile: string;
  readonly pipeline: PipelineConfig;

  private constructor(readonly legacy: LegacyDatabase, readonly keymap: LegacyDatabase, verifyYaml: (stack: TwoWayStack) => string) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sync-two-way-'));
    this.pipelineFile = path.join(dir, 'pipeline.yaml');
    const text = twoWayPipelineYaml({ ...this, verify: verifyYaml(this) });
    writeFileSync(this.pipelineFile, text);
    this.pipeline = parsePipeline(text, this.pipelineFile);
  }

  static async create(verifyYaml: (stack: TwoWayStack) => string = () => ''): Promise<TwoWayStack> {
    const legacy = await LegacyDatabase.create('e2e_legacy');
    const keymap = await LegacyDatabase.create('e2e_keymap');
    let stack: TwoWayStack;
    try {
      await legacy.exec(LEGACY_SCHEMA_SQL);
      stack = new TwoWayStack(legacy, keymap, verifyYaml);
    } catch (err) {
      await legacy.drop();
      await keymap.drop();
      throw err;
    }
    const db = createLegacyDb({ system: stack.system, dialect: 'postgres', url: { reveal: () => legacy.url }, poolSize: 2 }, () => undefined);
    try {
      await applyDdl(db, changelogDdl(stack.pipeline.systems.get(stack.system)!));
    } finally {
      await db.close();
    }
    return stack;
  }

  env(): Record<string, string> {
    return {
      KAFKA_BROKERS: testBrokers().join(','),
      PIPELINE_FILE: this.pipelineFile,
      CRM_DATABASE_URL: this.legacy.url,
      KEYMAP_DATABASE_URL: this.keymap.url,
      ADMIN_TOKEN: 'test-admin-token',
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: '10000',
    };
  }

  /** Starts the four apps as separate processes and waits until each is ready. */
  async startApps(extraEnv: Record<string, string> = {}): Promise<void> {
    for (const name of APP_NAMES) this.apps.set(name, await AppProcess.start(name, { ...this.env(), ...extraEnv }));
    await Promise.all(
      [...this.apps.values()].map((app) =>
        waitFor(`${app.app} ready`, async () => (await app.status('/health/ready')) === 200 || (app.isRunning() ? undefined : Promise.reject(new Error(app.logs()))), 60_000, 200),
      ),
    );
  }

  app(name: string): AppProcess {
    const app = this.apps.get(name);
    if (!app) throw new Error(`${name} is not running`);
    return app;
  }

  /** Every app's log tail, for assertion messages. */
  logs(): string {
    return [...this.apps.values()].map((a) => `--- ${a.app}\n${a.logs().slice(-3000)}`).join('\n');
  }

  async close(): Promise<void> {
    // SIGTERM: the apps leave their consumer groups, so nothing lingers on the shared broker.
    await Promise.all([...this.apps.values()].map((a) => a.stop('SIGTERM', 15_000).catch(() => undefined)));
    await this.legacy.drop().catch(() => undefined);
    await this.keymap.drop().catch(() => undefined);
  }
}
