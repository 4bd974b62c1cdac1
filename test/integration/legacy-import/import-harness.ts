import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePipeline } from '@sync/config';
import { applyDdl, changelogDdl, createLegacyDb } from '@sync/legacy-db';
import { AppProcess } from '../../support/app-process';
import { LegacyDatabase } from '../../support/legacy-database';
import { startLegacyImport } from '../../support/legacy-import-app';
import { uniqueName } from '../../support/test-env';

export const ADMIN_TOKEN = 'test-admin-token';

/** A legacy PostgreSQL database with capture installed, its pipeline file, and legacy-import runs. */
export class ImportHarness {
  readonly system = uniqueName('crm').toLowerCase().slice(0, 30);
  readonly pipelineFile: string;
  readonly apps: AppProcess[] = [];

  private constructor(readonly db: LegacyDatabase, private readonly tablesYaml: string) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sync-import-'));
    this.pipelineFile = path.join(dir, 'pipeline.yaml');
    writeFileSync(this.pipelineFile, this.pipelineText());
  }

  pipelineText(): string {
    return `version: 1\nsystems:\n  ${this.system}:\n    dialect: postgres\n    connection:\n      url: { env: LEGACY_DATABASE_URL }\n    tables:\n${this.tablesYaml}`;
  }

  /** Creates the database, runs `setupSql`, installs the capture DDL for `tablesYaml`. */
  static async create(setupSql: string, tablesYaml: string, server?: (database: string) => string): Promise<ImportHarness> {
    const db = await LegacyDatabase.create('it_import', server);
    await db.exec(setupSql);
    const harness = new ImportHarness(db, tablesYaml);
    await harness.installCapture();
    return harness;
  }

  async installCapture(): Promise<void> {
    const pipeline = parsePipeline(this.pipelineText(), 'harness');
    const system = pipeline.systems.get(this.system)!;
    const db = createLegacyDb({ system: this.system, dialect: 'postgres', url: { reveal: () => this.db.url }, poolSize: 2 }, () => undefined);
    try {
      await applyDdl(db, changelogDdl(system));
    } finally {
      await db.close();
    }
  }

  topic(table: string, schema = 'public'): string {
    return `legacy.${this.system}.${schema}.${table.replace(/\s+/g, '_')}`;
  }

  async startImporter(extraEnv: Record<string, string> = {}): Promise<AppProcess> {
    const app = await startLegacyImport({ PIPELINE_FILE: this.pipelineFile, LEGACY_DATABASE_URL: this.db.url, ADMIN_TOKEN, ...extraEnv });
    this.apps.push(app);
    return app;
  }

  async close(): Promise<void> {
    for (const app of this.apps) await app.stop('SIGKILL').catch(() => undefined);
    await this.db.drop().catch(() => undefined);
  }
}

export interface ChangeValue {
  op: 'c' | 'u' | 'd' | 'r';
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  source: { position: string; committedAt: string; txId: string | null; system: string; table: string };
}
