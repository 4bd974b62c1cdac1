import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { APP_NAMES } from '@sync/config';
import { Headers, Topics } from '@sync/contracts';
import { KafkaConnection, silentLog, type SyncProducer } from '@sync/kafka';
import { dataSchemaUri, encodeDomainEvent } from '@sync/mapping';
import { AppProcess } from '../support/app-process';
import { LegacyDatabase } from '../support/legacy-database';
import { repoRoot, testBrokers, uniqueName } from '../support/test-env';
import { TopicCollector } from '../support/topic-collector';
import { waitFor } from '../support/wait-for';

const execFileAsync = promisify(execFile);

// docs/adding-an-entity.md, step by step, with the real CLI and the four apps as processes: a
// running suite that syncs `users` gets the table `notes`, declared disabled, validated, captured,
// rolled out, enabled and verified in both directions. Step numbers refer to the runbook.

const system = uniqueName('crm').toLowerCase().slice(0, 30);
const noteAggregate = uniqueName('note').toLowerCase();
const groupPrefix = uniqueName('add_entity');
const SERVICE_ORIGIN = 'svc:notes';

const PIPELINE_BEFORE = `version: 1
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
        capture: { mode: trigger, pollIntervalMs: 100 }
`;

// Steps 1 and 2: the runbook's additions (capture polled faster than the default for the test).
const PIPELINE_AFTER = `${PIPELINE_BEFORE}      - name: notes
        key: [id]
        generatedKey: true
        initialState: disabled
        capture: { pollIntervalMs: 100 }
mappings:
  notes:
    source: { system: ${system}, table: notes }
    aggregate: ${noteAggregate}
    events:
      - type: NoteChanged
        fields: { body: body }
        schema: { type: object, required: [body], properties: { body: { type: string } } }
    reverse:
      - event: NoteChanged
        target: { system: ${system}, table: notes }
        columns: { body: body }
verify:
  newSide:
    connection: { url: { env: SERVICE_DATABASE_URL } }
  rangeBits: 2
  entities:
    notes:
      source: { system: ${system}, table: notes }
      tables: { notes: id }
      fields: { notes.body: NoteChanged.body }
`;

describe('docs/adding-an-entity.md, executed', () => {
  let legacy: LegacyDatabase;
  let keymap: LegacyDatabase;
  let service: LegacyDatabase;
  let pipelineFile: string;
  let dir: string;
  let events: TopicCollector;
  let producer: SyncProducer;
  const apps: AppProcess[] = [];
  const connection = new KafkaConnection({ brokers: testBrokers(), clientId: `${groupPrefix}-service` }, silentLog);
  const entity = `${system}.public.notes`;
  const noteTopic = Topics.domain(noteAggregate, 1);

  function env(): Record<string, string> {
    return {
      KAFKA_BROKERS: testBrokers().join(','),
      PIPELINE_FILE: pipelineFile,
      CRM_DATABASE_URL: legacy.url,
      KEYMAP_DATABASE_URL: keymap.url,
      SERVICE_DATABASE_URL: service.url,
      ADMIN_TOKEN: 'test-admin-token',
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: '10000',
    };
  }

  async function syncCtl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [path.join(repoRoot, 'dist', 'apps', 'sync-ctl', 'src', 'main.js'), ...args], {
        env: { PATH: process.env['PATH'] ?? '', ...env() },
        timeout: 120_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  async function startApps(): Promise<void> {
    for (const name of APP_NAMES) apps.push(await AppProcess.start(name, env()));
    await Promise.all(
      apps.map((app) => waitFor(`${app.app} ready`, async () => (await app.status('/health/ready')) === 200 || (app.isRunning() ? undefined : Promise.reject(new Error(app.logs()))), 60_000, 200)),
    );
  }

  async function stopApps(): Promise<void> {
    const codes = await Promise.all(apps.map((a) => a.stop('SIGTERM', 20_000)));
    assert.deepEqual(codes, apps.map(() => 0), 'the apps stop cleanly for the roll-out');
    apps.length = 0;
  }

  /** What the new service does with the events it receives: keep each note by global id. */
  async function serviceConsumes(): Promise<void> {
    for (const c of events.on(noteTopic)) {
      if (c.message.headers[Headers.origin] === SERVICE_ORIGIN) continue;
      const body = (c.value as { body: string }).body;
      await service.exec('INSERT INTO notes (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body', [c.message.headers['ce_subject'], body]);
    }
  }

  async function status(): Promise<{ entity: string; legacyToNew: string; newToLegacy: string; capture: string }> {
    const res = await syncCtl('status', '--json');
    assert.ok(res.code === 0 || res.code === 1, res.stderr);
    const report = JSON.parse(res.stdout) as { entities: Array<{ entity: string; legacyToNew: string; newToLegacy: string; capture: string }> };
    return report.entities.find((e) => e.entity === entity)!;
  }

  before(async () => {
    legacy = await LegacyDatabase.create('h_validate_legacy');
    keymap = await LegacyDatabase.create('h_validate_keymap');
    service = await LegacyDatabase.create('h_validate_service');
    await legacy.exec('CREATE TABLE users (id serial PRIMARY KEY, name text)');
    await service.exec('CREATE TABLE notes (id text PRIMARY KEY, body text)');
    dir = mkdtempSync(path.join(os.tmpdir(), 'adding-an-entity-'));
    pipelineFile = path.join(dir, 'pipeline.yaml');
    writeFileSync(pipelineFile, PIPELINE_BEFORE);
    assert.equal((await syncCtl('schema', '--apply')).code, 0);
    await startApps();
    producer = connection.producer();
    await producer.connect();
    events = await new TopicCollector().start([noteTopic]);
  });

  after(async () => {
    await events?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await Promise.all(apps.map((a) => a.stop('SIGTERM', 15_000).catch(() => undefined)));
    for (const db of [legacy, keymap, service]) await db?.drop().catch(() => undefined);
  });

  it('takes a new table from a pipeline entry to both directions verified', async () => {
    // The legacy application already has notes before the suite knows the table.
    await legacy.exec('CREATE TABLE notes (id serial PRIMARY KEY, user_id int, body text NOT NULL)');
    await legacy.exec(`INSERT INTO notes (body) SELECT 'legacy note ' || g FROM generate_series(1, 3) g`);

    // Steps 1-2: declare the table disabled, map it, declare the verify entity; try the mapping.
    writeFileSync(pipelineFile, PIPELINE_AFTER);
    const sample = path.join(dir, 'note.json');
    writeFileSync(sample, JSON.stringify({ op: 'c', before: null, after: { id: 1, body: 'hello' }, source: { system, schema: 'public', table: 'notes', position: '1', committedAt: '2025-01-01T00:00:00Z', txId: null }, ts_ms: 0, globalId: 'g-1', references: {} }));
    const mapped = await syncCtl('map', '--input', sample);
    assert.equal(mapped.code, 0, mapped.stderr);
    assert.match(mapped.stdout, /NoteChanged/);

    // Step 3: validate, also against the database.
    const validated = await syncCtl('validate');
    assert.equal(validated.code, 0, validated.stdout + validated.stderr);
    const againstDb = await syncCtl('validate', '--db', '--json');
    assert.equal(againstDb.code, 0, againstDb.stdout + againstDb.stderr);
    assert.deepEqual((JSON.parse(againstDb.stdout) as { checks: string[] }).checks, ['pipeline', 'mappings', 'verify', 'database']);

    // Step 4: change capture for the new table.
    const review = await syncCtl('schema', '--system', system);
    assert.match(review.stdout, /notes/);
    assert.equal((await syncCtl('schema', '--system', system, '--apply')).code, 0);

    // Step 5: roll out; the entity is declared disabled, nothing flows.
    await stopApps();
    await startApps();
    assert.deepEqual([(await status()).legacyToNew, (await status()).newToLegacy], ['disabled', 'disabled']);

    // Step 6: enable; the table is snapshotted, then streamed.
    const enabled = await syncCtl('enable', entity, '--reason', 'notes reviewed', '--by', 'runbook');
    assert.equal(enabled.code, 0, enabled.stderr);
    await waitFor('notes streaming', async () => ((await status()).capture === 'streaming' ? true : undefined), 60_000, 500);
    await events.waitForCount(noteTopic, 3, 60_000);

    // Step 7: verify legacy→new once the service consumed the snapshot.
    await serviceConsumes();
    const forward = await syncCtl('verify', 'notes', '--rechecks', '1', '--recheck-delay-ms', '500');
    assert.equal(forward.code, 0, forward.stdout + forward.stderr);
    assert.match(forward.stdout, /result: AGREE/);

    // Step 8: the service creates a note; it is written to the legacy table with a generated key.
    const globalId = randomUUID();
    await service.exec('INSERT INTO notes (id, body) VALUES ($1, $2)', [globalId, 'from the service']);
    const encoded = encodeDomainEvent({ id: globalId, source: '/services/notes', type: 'NoteChanged', subject: globalId, time: new Date().toISOString(), dataschema: dataSchemaUri(noteAggregate, 1, 'NoteChanged'), data: { body: 'from the service' } });
    await producer.send([{ topic: noteTopic, key: encoded.key, value: encoded.value, headers: { ...encoded.headers, [Headers.eventId]: globalId, [Headers.origin]: SERVICE_ORIGIN, [Headers.causationId]: globalId } }]);
    await waitFor('the note is written back', async () => ((await legacy.exec(`SELECT 1 FROM notes WHERE body = 'from the service'`)).length === 1 ? true : undefined), 60_000, 200);
    const dlq = await syncCtl('dlq', 'list', '--json');
    assert.equal(dlq.code, 0, `no dead letters: ${dlq.stdout}${dlq.stderr}`);
    await waitFor('the key map knows the written row', async () => ((await syncCtl('verify', 'notes', '--rechecks', '1', '--recheck-delay-ms', '500')).code === 0 ? true : undefined), 60_000, 1000);
    const both = await syncCtl('verify', 'notes', '--json', '--rechecks', '1', '--recheck-delay-ms', '500');
    assert.equal(both.code, 0, both.stdout);
    assert.equal((JSON.parse(both.stdout) as { legacyRows: number; newRows: number }).legacyRows, 4);
  });
});
