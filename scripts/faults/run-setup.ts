import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { databaseUrl, type FaultsConfig } from './faults-config';
import { AUDIT_SQL, faultsPipelineYaml, LEGACY_SCHEMA_SQL } from './faults-pipeline';
import { WRITEBACK_ROLE } from './scenarios';

/** The run's databases and the environment the apps, the service and sync-ctl get. */
export interface PreparedRun {
  readonly urls: { readonly legacy: string; readonly keymap: string; readonly service: string };
  readonly env: Record<string, string>;
  /** legacy-writeback's: the same, but it connects to the legacy database as WRITEBACK_ROLE (not a superuser). */
  readonly writebackEnv: Record<string, string>;
}

/**
 * legacy-writeback's role: what an operator grants it (rows of the legacy tables, the sync schema
 * the capture DDL created, the suite's audit table its writes fire into); not a superuser, so a
 * REVOKE of UPDATE (the revoke-update scenario) takes effect.
 */
function writebackRoleSql(database: string): string {
  return `
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${WRITEBACK_ROLE}') THEN CREATE ROLE ${WRITEBACK_ROLE} LOGIN; END IF;
END $$;
GRANT CONNECT ON DATABASE ${database} TO ${WRITEBACK_ROLE};
GRANT USAGE, CREATE ON SCHEMA public, sync, faults TO ${WRITEBACK_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public, sync, faults TO ${WRITEBACK_ROLE};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public, sync, faults TO ${WRITEBACK_ROLE};
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public, sync, faults TO ${WRITEBACK_ROLE};`;
}

/**
 * On the run's own cluster: fresh databases for the legacy CRM, the key map and the new service;
 * the legacy schema, change capture (`sync-ctl schema --apply`, as an operator installs it) and
 * the write audit; the pipeline file.
 */
export async function prepareRun(config: FaultsConfig, repoRoot: string): Promise<PreparedRun> {
  const dbs = { legacy: 'faults_legacy', keymap: 'faults_keymap', service: 'faults_service' };
  await createDatabases(config, Object.values(dbs));
  const urls = { legacy: databaseUrl(config.postgresUrl, dbs.legacy), keymap: databaseUrl(config.postgresUrl, dbs.keymap), service: databaseUrl(config.postgresUrl, dbs.service) };
  const pipelineFile = path.join(config.runDir, 'pipeline.yaml');
  writeFileSync(pipelineFile, faultsPipelineYaml(config.partitions));
  await exec(urls.legacy, LEGACY_SCHEMA_SQL);
  const env: Record<string, string> = {
    KAFKA_BROKERS: config.kafkaBrokers,
    PIPELINE_FILE: pipelineFile,
    CRM_DATABASE_URL: urls.legacy,
    KEYMAP_DATABASE_URL: urls.keymap,
    SERVICE_DATABASE_URL: urls.service,
    LOG_LEVEL: config.logLevel,
    SHUTDOWN_TIMEOUT_MS: '10000',
  };
  const schema = await runNode([path.join(repoRoot, 'dist/apps/sync-ctl/src/main.js'), 'schema', '--apply'], env);
  if (schema.code !== 0) throw new Error(`sync-ctl schema --apply failed (${schema.code}): ${schema.stderr}`);
  writeFileSync(path.join(config.runDir, 'capture-ddl.sql'), schema.stdout);
  await exec(urls.legacy, AUDIT_SQL);
  await exec(urls.legacy, writebackRoleSql(dbs.legacy));
  const writebackUrl = new URL(urls.legacy);
  writebackUrl.username = WRITEBACK_ROLE;
  return { urls, env, writebackEnv: { ...env, CRM_DATABASE_URL: writebackUrl.toString() } };
}

async function exec(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function createDatabases(config: FaultsConfig, names: readonly string[]): Promise<void> {
  const admin = new Client({ connectionString: config.postgresUrl });
  await admin.connect();
  try {
    // A role survives its databases; a previous run's grants went with them.
    await admin.query(`DROP ROLE IF EXISTS ${WRITEBACK_ROLE}`).catch(() => undefined);
    for (const name of names) {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name}`);
    }
  } finally {
    await admin.end();
  }
}

/** Runs a node script with only the given environment (plus PATH and HOME); resolves with its output. */
export function runNode(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

