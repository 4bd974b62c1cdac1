import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Topics, type WritebackCommand } from '@sync/contracts';
import type { AppProcess } from '../../support/app-process';
import { uniqueName } from '../../support/test-env';
import type { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { postgresDialect } from './writeback-dialects';
import { WritebackHarness } from './writeback-harness';

/**
 * Environment and schema failures of the legacy database under write-back load: a revoked
 * privilege, a database gone read-only, a column added or dropped. None may dead-letter a command;
 * each pauses (readiness says why) or holds the entity, and resumes with every command applied
 * once. PostgreSQL only: privileges and read-only need a real server (the SQL Server error numbers
 * are unit-tested, test/unit/legacy-writeback/sink-error.test.ts).
 */
const TABLES = `      - name: acl
        key: [id]
        capture: { mode: trigger }
      - name: kv
        key: [id]
        capture: { mode: trigger }
      - name: grow
        key: [id]
        capture: { mode: trigger }
        columns: [id, v, extra]
      - name: shrink
        key: [id]
        capture: { mode: trigger }
        columns: [id, v, old]
`;
const DDL = [
  'CREATE TABLE acl (id int PRIMARY KEY, v int NOT NULL)',
  'CREATE TABLE kv (id int PRIMARY KEY, v int NOT NULL)',
  'CREATE TABLE grow (id int PRIMARY KEY, v int NOT NULL)',
  'CREATE TABLE shrink (id int PRIMARY KEY, v int NOT NULL, old text)',
];

describe('legacy-writeback: environment and schema failures pause or hold, never dead-letter [PostgreSQL]', () => {
  let h: WritebackHarness;
  let collector: TopicCollector;
  let app: AppProcess;
  // The write-back connects as a plain role: a superuser would bypass privileges.
  const role = uniqueName('wbrole').toLowerCase();

  before(async () => {
    h = await WritebackHarness.create(postgresDialect, DDL, TABLES);
    const sync = h.config.syncSchema;
    await h.db.exec(`CREATE ROLE "${role}" LOGIN`);
    await h.db.exec(
      `GRANT USAGE ON SCHEMA public, "${sync}" TO "${role}";
       GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public, "${sync}" TO "${role}";
       GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public, "${sync}" TO "${role}"`,
    );
    appendFileSync(h.pipelineFile, 'legacyWriteback: { blockedRetryMs: 1000 }\n');
    collector = await h.collect();
    const url = new URL(h.db.url);
    url.username = role;
    url.password = '';
    app = await h.startWriteback({ env: { LEGACY_DATABASE_URL: url.toString() } });
  });
  after(async () => {
    await h?.close();
    await h?.db.exec(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
  });

  const deadLetters = (): number =>
    collector.on(Topics.dlq('legacy-writeback')).filter((i) => (i.message.headers['dlq-source-topic'] ?? '').startsWith(`resolved.${h.system}.`)).length;
  const inbox = async (table: string): Promise<number> =>
    Number((await h.db.exec<{ n: string }>('SELECT count(*)::text AS n FROM sync.inbox WHERE table_name = $1', [table]))[0]!.n);
  const readiness = async (): Promise<{ status: number; body: string }> => {
    const res = await fetch(app.url('/health/ready'), { signal: AbortSignal.timeout(8000) });
    return { status: res.status, body: await res.text() };
  };
  const waitReady = (what: string, pattern: RegExp): Promise<string> =>
    waitFor(what, async () => {
      const r = await readiness();
      return r.status === 503 && pattern.test(r.body) ? r.body : undefined;
    }, 60_000, 250);
  const waitGreen = (): Promise<true> => waitFor('readiness green again', async () => ((await readiness()).status === 200 ? true : undefined), 60_000, 250);
  const metric = async (pattern: RegExp): Promise<string | undefined> => (await (await fetch(app.url('/metrics'))).text()).match(pattern)?.[1];

  /** Upserts of keys from..to-1 with value v (one global id per key: order per row is kept). */
  const upserts = (table: string, from: number, to: number, columns: (id: number) => Record<string, unknown>): WritebackCommand[] =>
    Array.from({ length: to - from }, (_, i) => h.command(table, 'upsert', { id: from + i }, columns(from + i), { globalId: `${table}-${h.system}-${from + i}` }));

  /** Sends commands in chunks while the failure is in place (load, not one batch). */
  async function sendUnderLoad(commands: readonly WritebackCommand[], chunk = 50): Promise<void> {
    for (let i = 0; i < commands.length; i += chunk) await h.send(commands.slice(i, i + chunk));
  }

  it('a REVOKE of UPDATE pauses the write-back (readiness says why, no dead letter); a GRANT resumes with every command applied once', async () => {
    const first = upserts('acl', 0, 100, (id) => ({ v: id }));
    await h.send(first);
    await waitFor('the first commands applied', async () => ((await inbox('acl')) === 100 ? true : undefined), 60_000, 200);
    await h.db.exec(`REVOKE UPDATE ON acl FROM "${role}"`);
    // Updates of existing rows and inserts of new ones: both lock rows, which needs UPDATE.
    const second = [...upserts('acl', 50, 100, (id) => ({ v: id + 1000 })), ...upserts('acl', 100, 250, (id) => ({ v: id }))];
    await sendUnderLoad(second);
    const body = await waitReady('readiness red, naming the missing privilege', /42501|permission denied/);
    assert.match(body, /acl/, body);
    // Hold the revoke a while under load: nothing may be dead-lettered or committed past.
    const until = Date.now() + 5_000;
    while (Date.now() < until) {
      assert.equal(await inbox('acl'), 100, 'nothing applied while the privilege is missing');
      await new Promise((r) => setTimeout(r, 500));
    }
    await h.db.exec(`GRANT UPDATE ON acl TO "${role}"`);
    await waitFor('every command applied', async () => ((await inbox('acl')) === 300 ? true : undefined), 90_000, 200).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}; inbox ${await inbox('acl')}/300; logs:\n${app.logs().slice(-3000)}`);
    });
    await waitGreen();
    const rows = await h.db.exec<{ id: number; v: number }>('SELECT id, v FROM acl ORDER BY id');
    assert.equal(rows.length, 250);
    for (const r of rows) assert.equal(r.v, r.id >= 50 && r.id < 100 ? r.id + 1000 : r.id, `row ${r.id}`);
    const recorded = await h.db.exec<{ command_id: string }>('SELECT command_id FROM sync.inbox WHERE table_name = $1', ['acl']);
    assert.deepEqual(new Set(recorded.map((r) => r.command_id)), new Set([...first, ...second].map((c) => c.commandId)), 'each command recorded exactly once');
    assert.equal(deadLetters(), 0, 'no dead letters');
  });

  it('PostgreSQL gone read-only (default_transaction_read_only) pauses the write-back; back to read-write, everything applied, nothing dead-lettered', async () => {
    await h.send(upserts('kv', 0, 100, (id) => ({ v: id })));
    await waitFor('the first commands applied', async () => ((await inbox('kv')) === 100 ? true : undefined), 60_000, 200);
    // As after a failover to a standby: sessions are cut, new ones are read-only.
    await h.db.exec(`ALTER ROLE "${role}" SET default_transaction_read_only = on`);
    await h.db.exec('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
    const second = upserts('kv', 100, 400, (id) => ({ v: id * 2 }));
    await sendUnderLoad(second);
    await waitReady('readiness red, naming the read-only transaction', /25006|read-only transaction/);
    assert.equal(await inbox('kv'), 100, 'nothing applied while read-only');
    await h.db.exec(`ALTER ROLE "${role}" RESET default_transaction_read_only`);
    await waitFor('every command applied', async () => ((await inbox('kv')) === 400 ? true : undefined), 90_000, 200);
    await waitGreen();
    const rows = await h.db.exec<{ n: string; bad: string }>('SELECT count(*)::text AS n, count(*) FILTER (WHERE v <> CASE WHEN id < 100 THEN id ELSE id * 2 END)::text AS bad FROM kv');
    assert.deepEqual(rows[0], { n: '400', bad: '0' });
    assert.equal(deadLetters(), 0, 'no dead letters');
  });

  it('ADD COLUMN under load needs no restart: commands carrying the new (synced) column wait, then are applied once it exists', async () => {
    const before = upserts('grow', 0, 100, (id) => ({ v: id }));
    await h.send(before);
    await waitFor('commands without the new column applied', async () => ((await inbox('grow')) === 100 ? true : undefined), 60_000, 200);
    const withExtra = upserts('grow', 100, 400, (id) => ({ v: id, extra: `x${id}` }));
    await sendUnderLoad(withExtra);
    const body = await waitReady('readiness naming the held entity and the missing column', /grow held since .*has no column\(s\) extra/);
    assert.match(body, /writeback-held/);
    assert.equal(await metric(new RegExp(`sync_writeback_entity_blocked\\{entity="${h.system}\\.public\\.grow"[^}]*\\} (\\d+)`)), '1');
    await h.db.exec('ALTER TABLE grow ADD COLUMN extra text');
    await waitFor('every command applied after ADD COLUMN', async () => ((await inbox('grow')) === 400 ? true : undefined), 90_000, 200);
    await waitGreen();
    const rows = await h.db.exec<{ n: string; bad: string }>(
      "SELECT count(*)::text AS n, count(*) FILTER (WHERE CASE WHEN id < 100 THEN extra IS NOT NULL ELSE extra IS DISTINCT FROM 'x' || id END)::text AS bad FROM grow",
    );
    assert.deepEqual(rows[0], { n: '400', bad: '0' });
    assert.equal(await metric(new RegExp(`sync_writeback_entity_blocked\\{entity="${h.system}\\.public\\.grow"[^}]*\\} (\\d+)`)), '0');
    assert.equal(deadLetters(), 0, 'no dead letters');
    assert.ok(app.isRunning(), 'no restart');
  });

  it('a dropped mapped column holds the entity with a clear status instead of dead-lettering; restoring it releases the commands', async () => {
    await h.send(upserts('shrink', 0, 50, (id) => ({ v: id, old: `o${id}` })));
    await waitFor('commands applied (metadata cached)', async () => ((await inbox('shrink')) === 50 ? true : undefined), 60_000, 200);
    await h.db.exec('ALTER TABLE shrink DROP COLUMN old');
    const after = upserts('shrink', 50, 150, (id) => ({ v: id, old: `n${id}` }));
    await sendUnderLoad(after, 25);
    await waitReady('readiness naming the held entity and the dropped column', /shrink held since .*has no column\(s\) old/);
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      assert.equal(deadLetters(), 0, 'nothing dead-lettered while held');
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(await inbox('shrink'), 50, 'nothing committed past the held commands');
    // One way to clear it (docs/legacy-writeback.md): put the column back (or unmap it and restart).
    await h.db.exec('ALTER TABLE shrink ADD COLUMN old text');
    await waitFor('the held commands applied', async () => ((await inbox('shrink')) === 150 ? true : undefined), 90_000, 200);
    await waitGreen();
    const rows = await h.db.exec<{ n: string }>("SELECT count(*)::text AS n FROM shrink WHERE id >= 50 AND old = 'n' || id");
    assert.equal(rows[0]!.n, '100');
    assert.equal(deadLetters(), 0, 'no dead letters');
  });
});
