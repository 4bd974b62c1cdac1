import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Topics } from '@sync/contracts';
import { canonicalKey, connectKeymap, createKeymapDataSource, legacyGlobalId } from '@sync/keymap';
import { sampleSelector } from '../../../apps/sync-ctl/src/verify/reconcile';
import { SERVICE_SCHEMA_SQL } from '../../../examples/new-service/src/service-schema';
import { LegacyDatabase } from '../../support/legacy-database';
import { repoRoot, testBrokers } from '../../support/test-env';
import { TopicCollector } from '../../support/topic-collector';
import { TwoWayStack, twoWayVerifyYaml } from '../../support/two-way-stack';

const run = promisify(execFile);

interface Report {
  agree: boolean;
  legacyRows: number;
  newRows: number;
  ranges: number;
  differingRanges: number;
  firstSeen: number;
  differences: Array<{ id: string; kind: string; legacyKey: Record<string, unknown> | null; fields: Record<string, { legacy: string | null; new: string | null }> }>;
  selection?: { sample?: { fraction: number; seed: string }; since?: { column: string; at: string }; legacyRowsRead: number };
  repair?: { reemitted: number; deletes: number; notRepairable: string[] };
}

const USERS = 50;

/**
 * Streaming verify: the legacy table is read in chunks of 7 rows (50 rows: 7 full chunks and one
 * of 1), differences planted on the first and last row of chunks, on the very last row, and two
 * rows only the new side has.
 */
describe('sync-ctl verify streams in key order: differences at chunk boundaries, --sample, --since, --repair, progress', () => {
  let stack: TwoWayStack;
  let service: LegacyDatabase;
  const ghosts = [randomUUID(), randomUUID()];

  const gid = (legacyId: number): string => legacyGlobalId(stack.system, 'public.users', canonicalKey(['id'], { id: legacyId })!);

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

  async function verifyJson(...args: string[]): Promise<Report> {
    const res = await syncCtl('verify', 'users', '--json', '--recheck-delay-ms', '50', ...args);
    assert.ok(res.code === 0 || res.code === 1, `exit ${res.code}: ${res.stderr}`);
    assert.notEqual(res.stdout, '', `no report: exit ${res.code}, stderr ${res.stderr}`);
    const report = JSON.parse(res.stdout) as Report;
    assert.equal(res.code, report.agree ? 0 : 1);
    return report;
  }

  const kinds = (r: Report): Array<[string, string]> => r.differences.map((d): [string, string] => [d.id, d.kind]).sort();

  before(async () => {
    stack = await TwoWayStack.create((s) => twoWayVerifyYaml(s.system));
    service = await LegacyDatabase.create('it_verify_stream');
    await service.exec(SERVICE_SCHEMA_SQL);
    // The key map as id-translation creates it (empty: every legacy row gets its first-sight id).
    const keymap = createKeymapDataSource(stack.keymap.url, { poolSize: 2 });
    await connectKeymap(keymap);
    await keymap.destroy();
    await stack.legacy.exec(
      `INSERT INTO users (id, name, email, street, city, zip, updated_at) SELECT g, 'user ' || g, 'u' || g || '@example.org', g || ' Main St', 'City ' || (g % 5), lpad(g::text, 5, '0'), timestamptz '2026-01-01T00:00:00Z' FROM generate_series(1, ${USERS}) g`,
    );
    const users = await stack.legacy.exec<{ id: number; name: string; email: string; street: string; city: string; zip: string }>('SELECT id, name, email, street, city, zip FROM users');
    for (const u of users) {
      await service.exec('INSERT INTO users (id, name, email) VALUES ($1, $2, $3)', [gid(u.id), u.name, u.email]);
      await service.exec('INSERT INTO addresses (user_id, street, city, zip) VALUES ($1, $2, $3, $4)', [gid(u.id), u.street, u.city, u.zip]);
    }
  });

  after(async () => {
    await stack?.close();
    await service?.drop();
  });

  it('agrees (exit 0) whatever the chunk size, and counts the chunks', async () => {
    for (const size of ['1', '7', '50', '5000']) {
      const r = await verifyJson('--chunk-size', size);
      assert.equal(r.agree, true, `--chunk-size ${size}`);
      assert.equal(r.legacyRows, USERS);
      assert.equal(r.newRows, USERS);
    }
    // 50 rows: 8 chunks of at most 7 (the last has 1), or 5 of 10; the counts match, so no new-side id pass.
    assert.equal((await verifyJson('--chunk-size', '7')).ranges, 8);
    assert.equal((await verifyJson('--chunk-size', '10')).ranges, 5);
  });

  it('finds each planted difference at chunk boundaries, and only those, with chunks of 7, 1 and 5000', async () => {
    // Chunks of 7: rows 1-7, 8-14, ..., 50. 7 and 8 straddle the first boundary; 14 ends the second chunk; 50 is the last row.
    await service.exec(`UPDATE addresses SET city = 'Nowhere' WHERE user_id = $1`, [gid(7)]);
    await service.exec(`UPDATE users SET email = 'changed@example.org' WHERE id = $1`, [gid(8)]);
    for (const id of [14, 50]) {
      await service.exec('DELETE FROM addresses WHERE user_id = $1', [gid(id)]);
      await service.exec('DELETE FROM users WHERE id = $1', [gid(id)]);
    }
    for (const g of ghosts) await service.exec(`INSERT INTO users (id, name) VALUES ($1, 'ghost')`, [g]);
    const expected = [
      [gid(7), 'different'],
      [gid(8), 'different'],
      [gid(14), 'missing-on-new-side'],
      [gid(50), 'missing-on-new-side'],
      [ghosts[0]!, 'missing-on-legacy-side'],
      [ghosts[1]!, 'missing-on-legacy-side'],
    ].sort();
    for (const size of ['7', '1', '5000']) {
      const r = await verifyJson('--chunk-size', size, '--rechecks', '1');
      assert.deepEqual(kinds(r), expected, `--chunk-size ${size}`);
      assert.equal(r.legacyRows, USERS);
      assert.equal(r.newRows, USERS, '48 matched + 2 ghosts');
    }
    const r = await verifyJson('--chunk-size', '7');
    const byId = new Map(r.differences.map((d) => [d.id, d]));
    assert.deepEqual(byId.get(gid(7))!.fields, { 'addresses.city': { legacy: 'City 2', new: 'Nowhere' } });
    assert.deepEqual(byId.get(gid(8))!.fields, { 'users.email': { legacy: 'u8@example.org', new: 'changed@example.org' } });
    assert.deepEqual(byId.get(gid(50))!.legacyKey, { id: 50 });
    assert.equal(byId.get(ghosts[0]!)!.legacyKey, null);
    // Legacy chunks 1, 2 and 8 differ (3 of 8); the new side's 50 ids are searched in chunks of 7 (8 chunks), ghosts in one or two.
    assert.equal(r.ranges, 16);
    assert.ok(r.differingRanges >= 4 && r.differingRanges <= 5, `${r.differingRanges}`);

    const text = await syncCtl('verify', 'users', '--chunk-size', '7', '--recheck-delay-ms', '50');
    assert.equal(text.code, 1);
    assert.match(text.stdout, /6 DIFFERENCE\(S\), still there after 3 re-check\(s\)/);
    assert.match(text.stdout, /addresses\.city: legacy "City 2" != new "Nowhere"/);
  });

  it('--sample compares the rows whose global id the seed selects, on both sides', async () => {
    const planted = [gid(7), gid(8), gid(14), gid(50), ...ghosts];
    // A seed that keeps some planted differences and drops others, so the test can see the selection.
    const seed = Array.from({ length: 50 }, (_, i) => `seed${i}`).find((s) => {
      const n = planted.filter(sampleSelector(0.5, s)).length;
      return n >= 2 && n <= 4;
    })!;
    const selected = sampleSelector(0.5, seed);
    const r = await verifyJson('--chunk-size', '7', '--sample', '50%', '--sample-seed', seed, '--rechecks', '0');
    assert.deepEqual(r.differences.map((d) => d.id).sort(), planted.filter(selected).sort());
    const legacyIds = Array.from({ length: USERS }, (_, i) => gid(i + 1));
    assert.equal(r.legacyRows, legacyIds.filter(selected).length);
    assert.equal(r.newRows, [...legacyIds.filter((id) => id !== gid(14) && id !== gid(50)), ...ghosts].filter(selected).length);
    assert.deepEqual(r.selection, { sample: { fraction: 0.5, seed }, legacyRowsRead: USERS });

    const rows = await verifyJson('--sample', '10', '--sample-seed', seed, '--rechecks', '0');
    assert.equal(rows.selection!.sample!.fraction, 10 / USERS, '--sample N: N / legacy rows');

    const usage = await syncCtl('verify', 'users', '--sample', '150%');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--sample 150%: must be a fraction/);
  });

  it('--since compares only legacy rows changed since the time (by the change-time column)', async () => {
    await stack.legacy.exec(`UPDATE users SET updated_at = timestamptz '2026-06-01T00:00:00Z' WHERE id IN (7, 14, 20)`);
    const r = await verifyJson('--chunk-size', '7', '--since', '2026-03-01T00:00:00Z', '--since-column', 'updated_at', '--rechecks', '0');
    assert.deepEqual(kinds(r), [[gid(7), 'different'], [gid(14), 'missing-on-new-side']].sort(), 'not 8 or 50 (older), not the ghosts (no legacy time)');
    assert.equal(r.legacyRows, 3);
    assert.equal(r.newRows, 2, 'rows 7 and 20 are on the new side');
    assert.deepEqual(r.selection, { since: { column: 'updated_at', at: '2026-03-01T00:00:00.000Z' }, legacyRowsRead: USERS });
    const later = await verifyJson('--since', '2026-07-01T00:00:00Z', '--since-column', 'updated_at');
    assert.equal(later.agree, true);
    assert.equal(later.legacyRows, 0);

    const noColumn = await syncCtl('verify', 'users', '--since', '24h');
    assert.equal(noColumn.code, 2);
    assert.match(noColumn.stderr, /--since-column or verify\.entities\.users\.changedColumn/);
    const wrongColumn = await syncCtl('verify', 'users', '--since', '24h', '--since-column', 'no_such_column');
    assert.equal(wrongColumn.code, 2);
    assert.match(wrongColumn.stderr, /has no column no_such_column/);
  });

  it('prints progress on stderr only when asked outside a terminal, never with --json', async () => {
    const quiet = await syncCtl('verify', 'users', '--chunk-size', '7', '--rechecks', '0');
    assert.doesNotMatch(quiet.stderr, /verify users:/);
    const forced = await syncCtl('verify', 'users', '--chunk-size', '7', '--rechecks', '0', '--progress');
    assert.match(forced.stderr, /verify users: [\d,]+\/[\d,]+ rows \(100\.0%\), [\d,]+ rows\/s, [\dhms]+/);
    assert.match(forced.stdout, /rows: {3}legacy 50, new side 50/, 'the report itself is unchanged');
    const json = await syncCtl('verify', 'users', '--chunk-size', '7', '--rechecks', '0', '--progress', '--json');
    assert.doesNotMatch(json.stderr, /verify users:/);
  });

  it('--repair re-emits the streamed differences (a chunk-size 7 run) into the pipeline', async () => {
    const topic = Topics.legacy({ system: stack.system, schema: 'public', table: 'users' });
    const collector = await new TopicCollector().start([topic]);
    try {
      const res = await syncCtl('verify', 'users', '--chunk-size', '7', '--repair', '--rechecks', '0', '--progress');
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stdout, /repair: re-emitted 4 row\(s\) as snapshot reads and 0 delete\(s\)/);
      assert.match(res.stdout, /2 row\(s\) exist only on the new side/);
      assert.match(res.stderr, /repair users: 4\/4 records \(100\.0%\)/);
      const events = (await collector.waitForCount(topic, 4, 30_000)).map((c) => ({ key: c.key, value: c.value as { op: string; after: { id: number; email: string } } }));
      assert.deepEqual(events.map((e) => [(e.key as { id: number }).id, e.value.op]).sort((a, b) => Number(a[0]) - Number(b[0])), [[7, 'r'], [8, 'r'], [14, 'r'], [50, 'r']]);
      assert.equal(events.find((e) => (e.key as { id: number }).id === 8)!.value.after.email, 'u8@example.org', 'the legacy value, to overwrite the new side');
    } finally {
      await collector.stop();
    }
  });
});
