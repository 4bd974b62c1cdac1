import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parsePipeline, type SystemConfig, type TableConfig } from '@sync/config';
import { applyDdl, changelogDdl, createLegacyDb, createWritebackSink, type LegacyDb, type SinkCommand, type WritebackSink } from '@sync/legacy-db';
import { type PgStatement, type PgTableMeta } from '../../../libs/legacy-db/src/postgres/postgres-writeback.sql';
import { postgresWritebackStatements as pg } from '../../../libs/legacy-db/src/postgres/postgres-writeback.sink';
import { LegacyDatabase } from '../../support/legacy-database';
import { waitFor } from '../../support/wait-for';

/**
 * PostgresWritebackSink against a real PostgreSQL, without Kafka: how it records its own writes in
 * the trigger changelog, and that its statements stay key lookups whatever the statistics say.
 */
const SETUP = `
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL DEFAULT 0, note text);
CREATE TABLE twin (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL DEFAULT 0, note text);
CREATE TABLE audit (id serial PRIMARY KEY, item_id int NOT NULL, what text NOT NULL);
CREATE FUNCTION audit_items() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO audit (item_id, what) VALUES (NEW.id, TG_OP); RETURN NULL; END $$;
CREATE TRIGGER legacy_audit AFTER INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION audit_items();
CREATE TABLE big (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL);
CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL);
CREATE TABLE older (id int PRIMARY KEY, name text NOT NULL);`;

const PIPELINE = `version: 1
systems:
  shop:
    dialect: postgres
    connection:
      url: { env: X }
    tables:
${['items', 'twin', 'audit', 'big'].map((t) => `      - name: ${t}\n        key: [id]\n        capture: { mode: trigger, notify: false }\n`).join('')}      - name: older
        key: [id]
        capture: { mode: trigger, notify: false, triggerLevel: row }
      - name: notes
        key: [id]
        capture: { mode: trigger, notify: false }
        generatedKey: true
`;

let serial = 0;
function command(op: 'upsert' | 'delete', key: Record<string, unknown>, columns: Record<string, unknown>, extra: Partial<SinkCommand> = {}): SinkCommand {
  serial++;
  return { commandId: `c-${serial}`, op, globalId: `g-${serial}`, key, columns, occurredAt: new Date().toISOString(), origin: 'svc:orders', ...extra };
}

interface LogRow extends Record<string, unknown> {
  op: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  origin: string | null;
}

describe('PostgreSQL write-back sink on a trigger-captured table', () => {
  let db: LegacyDatabase;
  let legacy: LegacyDb;
  let system: SystemConfig;
  let sink: WritebackSink;
  const table = (name: string): TableConfig => system.tables.find((t) => t.name === name)!;
  const log = (name: string): Promise<LogRow[]> => db.exec<LogRow>(`SELECT op, before, after, origin FROM sync.public_${name}_changes ORDER BY id`);

  before(async () => {
    db = await LegacyDatabase.create('it_pg_sink');
    await db.exec(SETUP);
    system = parsePipeline(PIPELINE, 'test').systems.get('shop')!;
    legacy = createLegacyDb({ system: 'shop', dialect: 'postgres', url: { reveal: () => db.url }, poolSize: 2 }, () => undefined);
    await applyDdl(legacy, changelogDdl(system));
    sink = createWritebackSink(legacy, system);
  });
  after(async () => {
    await legacy.close();
    await db.drop();
  });

  it('records each row it writes once, with the images the capture trigger writes for the same legacy statements (updates: after image only)', async () => {
    await sink.applyBatch(table('items'), [
      command('upsert', { id: 1 }, { name: 'a', qty: 1 }),
      command('upsert', { id: 2 }, { name: 'b', qty: 2, note: 'x' }),
    ]);
    await sink.applyBatch(table('items'), [
      command('upsert', { id: 1 }, { qty: 5 }),
      command('delete', { id: 2 }, {}),
      command('upsert', { id: 3 }, { name: 'c' }),
    ]);
    // The same changes made by the legacy application on an identical table, in the order the sink applies them.
    await db.exec(`INSERT INTO twin (id, name, qty) VALUES (1, 'a', 1); INSERT INTO twin (id, name, qty, note) VALUES (2, 'b', 2, 'x');
                   DELETE FROM twin WHERE id = 2; UPDATE twin SET qty = 5 WHERE id = 1; INSERT INTO twin (id, name) VALUES (3, 'c')`);
    const written = await log('items');
    const legacyWritten = await log('twin');
    assert.deepEqual(
      written.map(({ op, before, after }) => ({ op, before, after })),
      // Except the before image of an update, which the write-back leaves out (it is the previous entry's after image).
      legacyWritten.map(({ op, before, after }) => ({ op, before: op === 'u' ? null : before, after })),
    );
    assert.notEqual(legacyWritten.find((r) => r.op === 'u')!.before, null);
    assert.deepEqual(written.map((r) => r.origin), ['svc:orders', 'svc:orders', 'svc:orders', 'svc:orders', 'svc:orders']);
    assert.deepEqual(legacyWritten.map((r) => r.origin), [null, null, null, null, null]);
  });

  it('leaves other captured tables to their triggers: a legacy trigger cascading into them is recorded, with the origin', async () => {
    const before = (await log('audit')).length;
    await sink.applyBatch(table('items'), [command('upsert', { id: 10 }, { name: 'cascade' })]);
    const audit = (await log('audit')).slice(before);
    assert.deepEqual(audit.map((r) => [r.op, r.after?.['item_id'], r.after?.['what'], r.origin]), [['c', 10, 'INSERT', 'svc:orders']]);
  });

  it('keeps the row trigger for writers that only set the origin marker', async () => {
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('sync.origin', 'svc:manual', true)`);
      await client.query(`INSERT INTO items (id, name) VALUES (20, 'manual')`);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    const last = (await log('items')).at(-1)!;
    assert.deepEqual([last.op, last.after?.['id'], last.origin], ['c', 20, 'svc:manual']);
  });

  it('leaves the recording to a capture trigger from an earlier version (no WHEN clause): each row once', async () => {
    await db.exec(`DROP TRIGGER sync_capture ON older;
                   CREATE TRIGGER sync_capture AFTER INSERT OR UPDATE OR DELETE ON older FOR EACH ROW EXECUTE FUNCTION sync.public_older_capture()`);
    const fresh = createWritebackSink(legacy, system);
    await fresh.applyBatch(table('older'), [command('upsert', { id: 1 }, { name: 'a' }), command('upsert', { id: 2 }, { name: 'b' })]);
    await fresh.applyBatch(table('older'), [command('upsert', { id: 1 }, { name: 'a2' }), command('delete', { id: 2 }, {})]);
    assert.deepEqual((await log('older')).map((r) => [r.op, r.origin]), [['c', 'svc:orders'], ['c', 'svc:orders'], ['d', 'svc:orders'], ['u', 'svc:orders']]);
  });

  it('skips a redelivered command, alone or among new ones, and returns its recorded key or conflict; nothing is written twice', async () => {
    const n1 = command('upsert', {}, { body: 'first' });
    const [first] = await sink.applyBatch(table('notes'), [n1]);
    assert.equal(first!.outcome, 'applied');
    // A legacy change the command did not see: legacy-wins skips the command and records the conflict.
    await db.exec(`INSERT INTO items (id, name) VALUES (40, 'legacy')`);
    const seen = (await db.exec<{ id: string }>('SELECT max(id)::text AS id FROM sync.public_items_changes'))[0]!.id;
    await db.exec(`UPDATE items SET name = 'legacy edit' WHERE id = 40`);
    const stale = command('upsert', { id: 40 }, { name: 'from the new side' }, { basedOn: seen });
    const [conflicted] = await sink.applyBatch(table('items'), [stale]);
    assert.equal(conflicted!.outcome, 'skipped-conflict');
    const notesLogged = (await log('notes')).length;

    const n2 = command('upsert', {}, { body: 'second' });
    const again = await sink.applyBatch(table('notes'), [n1, n2, n2]);
    assert.deepEqual(
      again.map((r) => [r.commandId, r.outcome, r.recordedOutcome]),
      [[n1.commandId, 'duplicate', 'applied'], [n2.commandId, 'applied', undefined], [n2.commandId, 'duplicate', undefined]],
    );
    assert.deepEqual(again[0]!.key, first!.key, 'the generated key is re-published as first reported');
    assert.notDeepEqual(again[1]!.key, first!.key);
    assert.deepEqual((await db.exec('SELECT body FROM notes ORDER BY id')).map((r) => r['body']), ['first', 'second']);
    assert.equal((await log('notes')).length, notesLogged + 1);

    const [redelivered] = await sink.applyBatch(table('items'), [stale]);
    assert.deepEqual([redelivered!.outcome, redelivered!.recordedOutcome, redelivered!.conflict], ['duplicate', 'skipped-conflict', conflicted!.conflict]);
    assert.equal((await db.exec<{ name: string }>('SELECT name FROM items WHERE id = 40'))[0]!.name, 'legacy edit');
  });

  it('draws a generated key again when it collides with a row the legacy application inserted with an explicit key', async () => {
    const next = Number((await db.exec<{ n: string }>("SELECT nextval('notes_id_seq')::text AS n"))[0]!.n);
    await db.exec(`INSERT INTO notes (id, body) VALUES ($1, 'legacy, explicit key'), ($2, 'legacy, explicit key')`, [next + 1, next + 2]);
    const results = await sink.applyBatch(table('notes'), [command('upsert', {}, { body: 'new side 1' }), command('upsert', {}, { body: 'new side 2' })]);
    assert.deepEqual(results.map((r) => r.outcome), ['applied', 'applied']);
    const keys = results.map((r) => Number(r.key!['id']));
    assert.ok(keys.every((k) => k > next + 2), `keys ${keys.join(', ')} drawn past the legacy rows`);
    const rows = await db.exec<{ id: string; body: string }>('SELECT id::text AS id, body FROM notes WHERE id > $1 ORDER BY id', [next]);
    assert.deepEqual(rows.map((r) => r.body), ['legacy, explicit key', 'legacy, explicit key', 'new side 1', 'new side 2']);
    assert.deepEqual(rows.slice(2).map((r) => Number(r.id)), keys);
  });

  it('updates a row that a legacy transaction inserted while the batch was being written', async () => {
    const legacyTx = await db.connect();
    try {
      await legacyTx.query('BEGIN');
      await legacyTx.query(`INSERT INTO items (id, name, qty, note) VALUES (60, 'legacy', 1, 'kept')`);
      // The row is not visible to the batch's lock; its insert waits on the legacy transaction's key.
      const applying = sink.applyBatch(table('items'), [command('upsert', { id: 60 }, { name: 'new side', qty: 2 })]);
      await waitFor('the write-back waiting on the legacy insert', async () => {
        const waiting = await db.exec(
          "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'WITH w AS (INSERT INTO \"public\".\"items\"%'",
        );
        return waiting.length > 0 ? true : undefined;
      });
      await legacyTx.query('COMMIT');
      const [result] = await applying;
      assert.equal(result!.outcome, 'applied');
    } finally {
      await legacyTx.end();
    }
    assert.deepEqual(await db.exec('SELECT name, qty, note FROM items WHERE id = 60'), [{ name: 'new side', qty: 2, note: 'kept' }]);
    const logged = (await log('items')).filter((r) => (r.after ?? r.before)?.['id'] === 60);
    assert.deepEqual(logged.map((r) => [r.op, r.origin]), [['c', null], ['u', 'svc:orders']]);
  });

  it('writes values that need quoting in array parameters exactly', async () => {
    const names = ['a"b', 'c\\d', 'NULL', '', 'x,y', '{z}', ' sp ', 'é€😀', 'line\nbreak', "it's"];
    await sink.applyBatch(table('items'), names.map((name, i) => command('upsert', { id: 500 + i }, { name, note: i % 2 === 0 ? null : name })));
    const rows = await db.exec<{ name: string; note: string | null }>('SELECT name, note FROM items WHERE id >= 500 ORDER BY id');
    assert.deepEqual(rows.map((r) => r.name), names);
    assert.deepEqual(rows.map((r) => r.note), names.map((n, i) => (i % 2 === 0 ? null : n)));
  });

  it('reads tables by key whatever their statistics say (no sequential scan of the table, the inbox or the changelog)', async () => {
    // 50,000 legacy rows (and as many changelog rows), never analyzed; 20,000 inbox rows.
    await db.exec(`INSERT INTO big SELECT g, 'n' || g, g % 7 FROM generate_series(1, 50000) g`);
    const t = table('big');
    for (let from = 0; from < 20_000; from += 5_000) {
      await sink.applyBatch(t, Array.from({ length: 5_000 }, (_, i) => command('upsert', { id: 100_000 + from + i }, { name: 'new', qty: 1 })));
    }
    const meta: PgTableMeta = { types: new Map([['id', 'integer'], ['name', 'text'], ['qty', 'integer']]), hasIdentity: false, keySequence: null };
    const keys = Array.from({ length: 1_000 }, (_, i) => ({ id: 1 + i * 37 }));
    const rows = keys.map((key) => ({ key, columns: { qty: 3 } }));
    const changelog = 'sync.public_big_changes';
    const statements: Record<string, PgStatement> = {
      inboxLookup: pg.inboxLookup('sync', keys.map((k) => `c-${k.id}`)),
      lockRows: pg.lockRows(t, meta, keys),
      conflicts: pg.conflicts(t, changelog, keys.map((key, index) => ({ index, basedOn: '1', key }))),
      update: pg.update(t, meta, ['qty'], rows, changelog),
      deleteLocked: pg.deleteLocked(t, meta, keys, changelog),
    };
    const client = await db.connect();
    try {
      for (const [name, s] of Object.entries(statements)) {
        const res = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${s.text}`, s.values);
        const scanned = seqScans(res.rows[0]!['QUERY PLAN']);
        assert.deepEqual(scanned.filter((r) => ['big', 'inbox', 'public_big_changes'].includes(r)), [], `${name} scans ${scanned.join(', ')}`);
      }
    } finally {
      await client.end();
    }
  });
});

/** Relations read by a Seq Scan anywhere in an EXPLAIN (FORMAT JSON) plan. */
function seqScans(plan: unknown): string[] {
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const n = node as Record<string, unknown>;
      if (n['Node Type'] === 'Seq Scan') found.push(String(n['Relation Name']));
      Object.values(n).forEach(visit);
    }
  };
  visit(plan);
  return found;
}
