import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { resolveLegacyDbOptions } from '@sync/config';
import { Topics } from '@sync/contracts';
import { parseStatusRecord, type VerifySummary } from '@sync/control';
import { KafkaConnection, silentLog } from '@sync/kafka';
import { canonicalKey, connectKeymap, createKeymapDataSource, legacyGlobalId, TableIndex } from '@sync/keymap';
import { createCaptureSource, createLegacyDb } from '@sync/legacy-db';
import { loadMappings, MappingEngine } from '@sync/mapping';
import { appMappers } from '@sync/custom-mappers';
import { KeymapLookupRepository } from '../../../apps/sync-ctl/src/verify/keymap-lookup.repository';
import { LegacySideReader } from '../../../apps/sync-ctl/src/verify/legacy-side.reader';
import { NewSideRepository } from '../../../apps/sync-ctl/src/verify/new-side.repository';
import { loadVerifyConfig } from '../../../apps/sync-ctl/src/verify/verify-config';
import { VerifyService } from '../../../apps/sync-ctl/src/verify/verify.service';
import { SERVICE_SCHEMA_SQL } from '../../../examples/new-service/src/service-schema';
import { LegacyDatabase } from '../../support/legacy-database';
import { repoRoot, testBrokers } from '../../support/test-env';
import { TopicCollector } from '../../support/topic-collector';
import { TwoWayStack, twoWayVerifyYaml } from '../../support/two-way-stack';

const run = promisify(execFile);

interface Report {
  entity: string;
  agree: boolean;
  legacyRows: number;
  newRows: number;
  differingRanges: number;
  firstSeen: number;
  differences: Array<{ id: string; kind: string; legacyKey: Record<string, unknown> | null; fields: Record<string, { legacy: string | null; new: string | null }> }>;
  repair?: { reemitted: number; deletes: number; notRepairable: string[] };
}

function pick(s: VerifySummary): Pick<VerifySummary, 'agree' | 'differences' | 'legacyRows' | 'newRows'> {
  return { agree: s.agree, differences: s.differences, legacyRows: s.legacyRows, newRows: s.newRows };
}

describe('sync-ctl verify: a legacy PostgreSQL table against the new service\'s PostgreSQL tables', () => {
  let stack: TwoWayStack;
  let service: LegacyDatabase;
  const ids = new Map<number, string>();
  const linkedId = randomUUID();

  const gid = (legacyId: number): string => ids.get(legacyId) ?? legacyGlobalId(stack.system, 'public.users', canonicalKey(['id'], { id: legacyId })!);

  async function syncCtl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [path.join(repoRoot, 'dist', 'apps', 'sync-ctl', 'src', 'main.js'), ...args], {
        env: { PATH: process.env['PATH'] ?? '', PIPELINE_FILE: stack.pipelineFile, KAFKA_BROKERS: testBrokers().join(','), CRM_DATABASE_URL: stack.legacy.url, KEYMAP_DATABASE_URL: stack.keymap.url, SERVICE_DATABASE_URL: service.url },
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  async function verifyJson(...args: string[]): Promise<{ code: number; report: Report }> {
    const res = await syncCtl('verify', ...args, '--json', '--recheck-delay-ms', '200');
    assert.ok(res.code === 0 || res.code === 1, `exit ${res.code}: ${res.stderr}`);
    return { code: res.code, report: JSON.parse(res.stdout) as Report };
  }

  before(async () => {
    stack = await TwoWayStack.create((s) => twoWayVerifyYaml(s.system, 6));
    service = await LegacyDatabase.create('it_newside');
    await service.exec(SERVICE_SCHEMA_SQL);
    const keymap = createKeymapDataSource(stack.keymap.url, { poolSize: 2 });
    await connectKeymap(keymap);
    // User 41 was created by the new service: the key map links its generated key to the service's id.
    await keymap.query(`INSERT INTO keymap_entry (system, table_ref, local_key, key_values, global_id, origin) VALUES ($1, 'public.users', '["41"]', '{"id": 41}', $2, 'link')`, [stack.system, linkedId]);
    await keymap.destroy();
    ids.set(41, linkedId);

    await stack.legacy.exec(`INSERT INTO users (id, name, email, street, city, zip) SELECT g, 'user ' || g, 'u' || g || '@example.org', g || ' Main St', 'City ' || (g % 5), lpad(g::text, 5, '0') FROM generate_series(1, 41) g`);
    await stack.legacy.exec(`INSERT INTO orders (id, user_id, total, placed_at) SELECT g, g, g * 2.5, timestamptz '2026-01-01T10:00:00.123Z' + g * interval '1 hour' FROM generate_series(1, 41) g`);
    const users = await stack.legacy.exec<{ id: number; name: string; email: string; street: string; city: string; zip: string }>('SELECT id, name, email, street, city, zip FROM users');
    for (const u of users) {
      await service.exec('INSERT INTO users (id, name, email) VALUES ($1, $2, $3)', [gid(u.id), u.name, u.email]);
      await service.exec('INSERT INTO addresses (user_id, street, city, zip) VALUES ($1, $2, $3, $4)', [gid(u.id), u.street, u.city, u.zip]);
    }
    const orders = await stack.legacy.exec<{ id: number; user_id: number; total: string; placed_at: Date }>('SELECT id, user_id, total, placed_at FROM orders');
    for (const o of orders) {
      const orderId = legacyGlobalId(stack.system, 'public.orders', canonicalKey(['id'], { id: o.id })!);
      await service.exec('INSERT INTO orders (id, user_id, total, placed_at) VALUES ($1, $2, $3, $4)', [orderId, gid(o.user_id), o.total, o.placed_at]);
    }
  });

  after(async () => {
    await stack?.close();
    await service?.drop();
  });

  it('reports agreement (exit 0) when both sides hold the same rows, through the key map and the mappings', async () => {
    const res = await syncCtl('verify', '--all', '--json');
    assert.equal(res.code, 0, res.stderr + res.stdout);
    const reports = JSON.parse(res.stdout) as Report[];
    assert.deepEqual(reports.map((r) => [r.entity, r.agree, r.legacyRows, r.newRows, r.differingRanges]), [
      [`${stack.system}.public.users`, true, 41, 41, 0],
      [`${stack.system}.public.orders`, true, 41, 41, 0],
    ]);
    const text = await syncCtl('verify', 'users');
    assert.equal(text.code, 0);
    assert.match(text.stdout, /rows: {3}legacy 41, new side 41/);
    assert.match(text.stdout, /result: AGREE/);
  });

  it('bisects to planted differences and names each row, its kind and its legacy key (exit 1)', async () => {
    await service.exec(`UPDATE addresses SET city = 'Nowhere' WHERE user_id = $1`, [gid(5)]);
    await service.exec('DELETE FROM addresses WHERE user_id = $1', [gid(7)]);
    await service.exec('DELETE FROM users WHERE id = $1', [gid(7)]);
    const ghost = randomUUID();
    await service.exec(`INSERT INTO users (id, name) VALUES ($1, 'ghost')`, [ghost]);
    const gone = legacyGlobalId(stack.system, 'public.users', canonicalKey(['id'], { id: 999 })!);
    await service.exec(`INSERT INTO users (id, name) VALUES ($1, 'deleted in legacy')`, [gone]);
    const keymap = createKeymapDataSource(stack.keymap.url, { poolSize: 1 });
    await keymap.initialize();
    await keymap.query(`INSERT INTO keymap_entry (system, table_ref, local_key, key_values, global_id, origin) VALUES ($1, 'public.users', '["999"]', '{"id": 999}', $2, 'legacy')`, [stack.system, gone]);
    await keymap.destroy();

    const { code, report } = await verifyJson('users');
    assert.equal(code, 1);
    assert.equal(report.agree, false);
    assert.equal(report.legacyRows, 41);
    assert.equal(report.newRows, 42);
    // The outcome is recorded for the status console: the latest per entity on sync.status.
    const status = new KafkaConnection({ brokers: testBrokers(), clientId: 'test-verify-status' }, silentLog);
    const recorded = (await status.readCompacted(Topics.status)).get(`${stack.system}.public.users|verify`);
    assert.ok(recorded?.value, 'a verify summary on sync.status');
    assert.deepEqual(pick(parseStatusRecord(JSON.parse(recorded.value.toString()))), { agree: false, differences: 4, legacyRows: 41, newRows: 42 });
    const byId = new Map(report.differences.map((d) => [d.id, d]));
    assert.deepEqual([...byId.keys()].sort(), [gid(5), gid(7), ghost, gone].sort());
    assert.equal(byId.get(gid(5))!.kind, 'different');
    assert.deepEqual(byId.get(gid(5))!.legacyKey, { id: 5 });
    assert.deepEqual(byId.get(gid(5))!.fields, { 'addresses.city': { legacy: 'City 0', new: 'Nowhere' } });
    assert.equal(byId.get(gid(7))!.kind, 'missing-on-new-side');
    assert.deepEqual(byId.get(gid(7))!.legacyKey, { id: 7 });
    assert.equal(byId.get(ghost)!.kind, 'missing-on-legacy-side');
    assert.equal(byId.get(ghost)!.legacyKey, null);
    assert.deepEqual(byId.get(gone)!.legacyKey, { id: 999 });
    assert.ok(report.differingRanges >= 1 && report.differingRanges <= 4);

    const orders = await verifyJson('orders');
    assert.equal(orders.code, 0, 'the other entity still agrees');

    const text = await syncCtl('verify', 'users', '--recheck-delay-ms', '100');
    assert.equal(text.code, 1);
    assert.match(text.stdout, /4 DIFFERENCE\(S\), still there after 3 re-check\(s\)/);
    assert.match(text.stdout, /addresses\.city: legacy "City 0" != new "Nowhere"/);
  });

  it('does not report a difference that settles before the re-check (a change in flight)', async () => {
    const pipeline = stack.pipeline;
    const mappers = appMappers();
    const loaded = loadMappings(pipeline, mappers);
    const entity = loadVerifyConfig(pipeline, loaded.set).entities.find((e) => e.name === 'users')!;
    const system = pipeline.systems.get(stack.system)!;
    const db = createLegacyDb({ ...resolveLegacyDbOptions(system, { CRM_DATABASE_URL: stack.legacy.url }), poolSize: 2 }, () => undefined);
    const keymap = new KeymapLookupRepository(stack.keymap.url);
    const fresh = new NewSideRepository(service.url);
    await keymap.connect();
    await fresh.connect();
    try {
      const reader = new LegacySideReader(createCaptureSource(db, system, entity.table), keymap, new TableIndex(pipeline), new MappingEngine(loaded, mappers), entity);
      let sleeps = 0;
      const settle = async (): Promise<void> => {
        // The write-back of the in-flight change lands while verify waits to re-check.
        if (sleeps++ === 0) await service.exec(`UPDATE addresses SET city = 'City 0' WHERE user_id = $1`, [gid(5)]);
      };
      const report = await new VerifyService(entity, reader, fresh, keymap, { rechecks: 2, recheckDelayMs: 0, chunkSize: 7, sleep: settle }).run();
      assert.equal(report.firstSeen, 4);
      assert.deepEqual(report.differences.map((d) => d.id).sort(), [gid(7), ...report.differences.filter((d) => d.kind === 'missing-on-legacy-side').map((d) => d.id)].sort());
      assert.equal(report.differences.length, 3);
      assert.equal(report.rechecks, 2);
    } finally {
      await keymap.close();
      await fresh.close();
      await db.close();
    }
  });

  it('--repair re-emits the differing legacy rows into the pipeline as op r, and deletes for rows gone from legacy', async () => {
    const topic = Topics.legacy({ system: stack.system, schema: 'public', table: 'users' });
    const collector = await new TopicCollector().start([topic]);
    try {
      const { code, report } = await verifyJson('users', '--repair', '--rechecks', '0');
      assert.equal(code, 1);
      assert.deepEqual(report.repair, { reemitted: 1, deletes: 1, notRepairable: [report.differences.find((d) => d.legacyKey === null)!.id] });
      const events = (await collector.waitForCount(topic, 2, 30_000)).map((c) => ({ key: c.key, value: c.value as { op: string; after: { id: number; city: string } | null; before: unknown } }));
      assert.deepEqual(events.map((e) => [e.key, e.value.op]).sort(), [[{ id: 7 }, 'r'], [{ id: 999 }, 'd']].sort());
      assert.equal(events.find((e) => e.value.op === 'r')!.value.after!.city, 'City 2');
    } finally {
      await collector.stop();
    }
  });
});
