import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parsePipeline, type SystemConfig, type TableConfig } from '@sync/config';
import { applyDdl, changelogDdl, createLegacyDb, createWritebackSink, SinkError, type LegacyDb, type SinkCommand, type WritebackSink } from '@sync/legacy-db';
import { LegacyDatabase } from '../../support/legacy-database';

/**
 * The new side changes a legacy primary key (a natural key): the PostgreSQL sink moves the row in
 * place, without a foreign-key violation whether the children cascade or not, and records the
 * move with its origin marker (so legacy-import does not echo it).
 */
const SETUP = `
CREATE TABLE parent (id int PRIMARY KEY, name text NOT NULL, code text, stamp int GENERATED ALWAYS AS (id * 10) STORED);
CREATE TABLE coded (id int PRIMARY KEY, code text UNIQUE);
CREATE TABLE coded_child (id int PRIMARY KEY, coded_id int REFERENCES coded (id));
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id));
CREATE TABLE cascading (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE follower (id int PRIMARY KEY, cascading_id int REFERENCES cascading (id) ON UPDATE CASCADE);
CREATE TABLE person (id int PRIMARY KEY, name text NOT NULL, boss_id int REFERENCES person (id));`;

const PIPELINE = `version: 1
systems:
  shop:
    dialect: postgres
    connection:
      url: { env: X }
    tables:
${['parent', 'child', 'cascading', 'follower', 'person', 'coded', 'coded_child'].map((t) => `      - name: ${t}\n        key: [id]\n        capture: { mode: trigger, notify: false }\n`).join('')}`;

let serial = 0;
function upsert(key: Record<string, unknown>, columns: Record<string, unknown>, newKey?: Record<string, unknown>): SinkCommand {
  serial++;
  return { commandId: `move-${serial}`, op: 'upsert', globalId: `g-${serial}`, key, columns, occurredAt: new Date().toISOString(), origin: 'svc:catalog', ...(newKey ? { newKey } : {}) };
}

describe('PostgreSQL write-back: the new side changes a primary key', () => {
  let db: LegacyDatabase;
  let legacy: LegacyDb;
  let system: SystemConfig;
  let sink: WritebackSink;
  const table = (name: string): TableConfig => system.tables.find((t) => t.name === name)!;
  const rows = <T extends Record<string, unknown>>(sql: string): Promise<T[]> => db.exec<T>(sql);

  before(async () => {
    db = await LegacyDatabase.create('it_key_move');
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

  it('moves a row its children reference (no ON UPDATE CASCADE): copy, re-point, delete; one row, children follow, no echo', async () => {
    await db.exec("INSERT INTO parent (id, name, code) VALUES (5, 'five', 'F'); INSERT INTO child VALUES (1, 5), (2, 5), (3, NULL)");
    const before = await rows<{ n: number }>('SELECT count(*)::int AS n FROM sync.public_parent_changes');
    const [result] = await sink.applyBatch(table('parent'), [upsert({ id: 5 }, { name: 'nine' }, { id: 9 })]);
    assert.equal(result!.outcome, 'applied');
    assert.deepEqual(await rows('SELECT id, name, code, stamp FROM parent ORDER BY id'), [{ id: 9, name: 'nine', code: 'F', stamp: 90 }]);
    assert.deepEqual(await rows('SELECT id, parent_id FROM child ORDER BY id'), [{ id: 1, parent_id: 9 }, { id: 2, parent_id: 9 }, { id: 3, parent_id: null }]);
    const logged = await rows<{ origin: string | null }>(`SELECT origin FROM sync.public_parent_changes OFFSET ${before[0]!.n}`);
    assert.ok(logged.length > 0 && logged.every((r) => r.origin === 'svc:catalog'), 'every change of the move carries the origin marker');
    const children = await rows<{ origin: string | null }>("SELECT origin FROM sync.public_child_changes WHERE op = 'u'");
    assert.ok(children.length === 2 && children.every((r) => r.origin === 'svc:catalog'), 'the re-pointed children too');
  });

  it('moves a row whose children cascade by updating the key in place', async () => {
    await db.exec("INSERT INTO cascading VALUES (1, 'one'); INSERT INTO follower VALUES (10, 1)");
    await sink.applyBatch(table('cascading'), [upsert({ id: 1 }, {}, { id: 2 })]);
    assert.deepEqual(await rows('SELECT id, name FROM cascading'), [{ id: 2, name: 'one' }]);
    assert.deepEqual(await rows('SELECT id, cascading_id FROM follower'), [{ id: 10, cascading_id: 2 }]);
    const log = await rows<{ op: string }>('SELECT op FROM sync.public_cascading_changes ORDER BY id');
    assert.deepEqual(log.map((r) => r.op), ['c', 'u'], 'an update in place, as the legacy application would write it');
  });

  it('keeps the order of a batch: update under the old key, the move, update under the new key', async () => {
    await db.exec("INSERT INTO person VALUES (1, 'boss', NULL), (2, 'worker', 1)");
    await sink.applyBatch(table('person'), [upsert({ id: 1 }, { name: 'Boss' }), upsert({ id: 1 }, {}, { id: 100 }), upsert({ id: 100 }, { name: 'BOSS' })]);
    assert.deepEqual(await rows('SELECT id, name, boss_id FROM person ORDER BY id'), [
      { id: 2, name: 'worker', boss_id: 100 },
      { id: 100, name: 'BOSS', boss_id: null },
    ]);
  });

  it('refuses a move onto a key another row holds (a data error: dead-lettered, not retried)', async () => {
    await db.exec("INSERT INTO parent (id, name) VALUES (20, 'twenty'), (21, 'twenty-one')");
    await assert.rejects(sink.applyBatch(table('parent'), [upsert({ id: 20 }, {}, { id: 21 })]), (err: unknown) => err instanceof SinkError && err.kind === 'data' && /a row with that key exists/.test(err.message));
    assert.deepEqual(await rows('SELECT id FROM parent WHERE id IN (20, 21) ORDER BY id'), [{ id: 20 }, { id: 21 }]);
  });

  it('refuses, naming what blocks it, a move that needs a copy while another unique index forbids one', async () => {
    await db.exec("INSERT INTO coded VALUES (1, 'A'); INSERT INTO coded_child VALUES (1, 1)");
    await assert.rejects(
      sink.applyBatch(table('coded'), [upsert({ id: 1 }, {}, { id: 2 })]),
      (err: unknown) => err instanceof SinkError && err.kind === 'data' && /coded_child/.test(err.message) && /coded_code_key/.test(err.message) && /ON UPDATE CASCADE/.test(err.message),
    );
    assert.deepEqual(await rows('SELECT id, code FROM coded'), [{ id: 1, code: 'A' }]);
  });

  it('a redelivered move is a duplicate, not an error', async () => {
    await db.exec("INSERT INTO parent (id, name) VALUES (30, 'thirty')");
    const move = upsert({ id: 30 }, {}, { id: 31 });
    await sink.applyBatch(table('parent'), [move]);
    const [again] = await sink.applyBatch(table('parent'), [move]);
    assert.equal(again!.outcome, 'duplicate');
    assert.deepEqual(await rows('SELECT id FROM parent WHERE id IN (30, 31)'), [{ id: 31 }]);
  });
});
