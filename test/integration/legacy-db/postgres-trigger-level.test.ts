/**
 * capture.triggerLevel on the real PostgreSQL: the statement-level triggers (transition tables,
 * one INSERT … SELECT per statement, key moves row by row) record the same changelog as the row
 * trigger for the same statements: same rows, same images, same origin, and for every key the
 * same changes in the same order. Key moves inside one statement (shifts, swaps under a deferred
 * key, a move mixed with plain updates) are the cases a pairing by key alone gets wrong.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import { applyDdl, changelogDdl, createLegacyDb } from '@sync/legacy-db';
import { LegacyDatabase } from '../../support/legacy-database';

const LEVELS = ['row', 'statement'] as const;
type Level = (typeof LEVELS)[number];

interface Logged extends Record<string, unknown> {
  id: string;
  tx: string;
  op: 'c' | 'u' | 'd';
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  origin: string | null;
}

const table = (kind: string, level: Level): string => `${kind}_${level}`;

function pipelineYaml(): string {
  const tables = LEVELS.flatMap((level) =>
    ['items', 'swapped'].map((kind) => `      - name: ${table(kind, level)}\n        key: [id]\n        capture: { mode: trigger, triggerLevel: ${level} }\n`),
  ).join('');
  return `version: 1\nsystems:\n  legacy:\n    dialect: postgres\n    connection: { url: { env: X } }\n    tables:\n${tables}`;
}

/** The same statements against the table of each level; `$t` is the table. */
const SCRIPT: ReadonlyArray<readonly string[]> = [
  [`INSERT INTO $t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e')`],
  [`UPDATE $t SET v = v || '1' WHERE id <= 3`],
  // Several keys move in one statement, onto keys nobody holds.
  [`UPDATE $t SET id = id + 10 WHERE id IN (1, 2)`],
  // One move and plain updates in one statement.
  [`UPDATE $t SET id = CASE WHEN id = 11 THEN 21 ELSE id END, v = v || '!'`],
  // In one transaction: a move onto 30, then a plain update of 30; key 12 comes back and is
  // updated (a pairing that looked at earlier statements' moves would leave these out).
  [`UPDATE $t SET id = 30 WHERE id = 12`, `UPDATE $t SET v = 'thirty' WHERE id = 30`, `INSERT INTO $t (id, v) VALUES (12, 'b')`, `UPDATE $t SET v = 'b' || v WHERE id = 12`],
  // A statement that changes nothing, and one that updates every row to the same value.
  [`UPDATE $t SET v = 'x' WHERE false`, `UPDATE $t SET v = v`],
  [`INSERT INTO $t (id, v) VALUES (40, 'p'), (41, 'q') ON CONFLICT (id) DO UPDATE SET v = excluded.v`, `INSERT INTO $t (id, v) VALUES (40, 'p2'), (42, 'r') ON CONFLICT (id) DO UPDATE SET v = excluded.v`],
  [`DELETE FROM $t WHERE id IN (3, 4, 40)`],
  [`SELECT set_config('sync.origin', 'svc:orders', true)`, `UPDATE $t SET v = 'from the new side' WHERE id IN (5, 41)`, `INSERT INTO $t (id, v) VALUES (50, 'written back')`],
  // The write-back records its own rows set-based: every trigger stays silent.
  [`SELECT set_config('sync.self_logged', '"public"."$t"', true)`, `UPDATE $t SET v = 'self-logged' WHERE id = 5`, `INSERT INTO $t (id, v) VALUES (60, 'self-logged')`],
];

/** Keys swap in one statement: possible with a deferred primary key only. */
const SWAP_SCRIPT: ReadonlyArray<readonly string[]> = [
  [`INSERT INTO $t (id, v) VALUES (1, 'one'), (2, 'two'), (3, 'three')`],
  [`UPDATE $t SET id = CASE id WHEN 1 THEN 2 WHEN 2 THEN 1 ELSE id END, v = v || '!'`],
  [`UPDATE $t SET id = 2 WHERE id = 1`, `UPDATE $t SET v = 'still two' WHERE v = 'one!'`, `UPDATE $t SET id = 1 WHERE v = 'two!'`],
];

describe('PostgreSQL capture triggers: statement level records what the row level records', () => {
  let db: LegacyDatabase;
  const logs = new Map<string, Logged[]>();

  before(async () => {
    db = await LegacyDatabase.create('it_trigger_level');
    for (const level of LEVELS) {
      await db.exec(`CREATE TABLE ${table('items', level)} (id int PRIMARY KEY, v text)`);
      await db.exec(`CREATE TABLE ${table('swapped', level)} (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, v text)`);
    }
    const system = parsePipeline(pipelineYaml(), 'test').systems.get('legacy')!;
    const legacy = createLegacyDb({ system: 'legacy', dialect: 'postgres', url: { reveal: () => db.url }, poolSize: 1 }, () => undefined);
    try {
      await applyDdl(legacy, changelogDdl(system));
    } finally {
      await legacy.close();
    }
    for (const level of LEVELS) {
      for (const [kind, script] of [['items', SCRIPT], ['swapped', SWAP_SCRIPT]] as const) {
        const t = table(kind, level);
        for (const tx of script) await db.transaction(tx.map((sql) => [sql.replaceAll('$t', t), []]));
        logs.set(t, await db.exec<Logged>(`SELECT id::text, tx::text, op, before, after, origin FROM sync."public_${t}_changes" ORDER BY id`));
      }
    }
  });

  after(async () => {
    await db?.drop();
  });

  /** Per key, the changes touching it (as old or new key), in changelog order, without ids. */
  function perKey(rows: readonly Logged[]): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const r of rows) {
      const keys = new Set([r.before?.['id'], r.after?.['id']].filter((k): k is number => typeof k === 'number'));
      for (const k of keys) out.set(k, [...(out.get(k) ?? []), JSON.stringify([r.op, r.before, r.after, r.origin])]);
    }
    return out;
  }

  /** The rows of each transaction as a sorted multiset (order inside a statement may differ). */
  function perTransaction(rows: readonly Logged[]): string[][] {
    const txs = new Map<string, string[]>();
    for (const r of rows) txs.set(r.tx, [...(txs.get(r.tx) ?? []), JSON.stringify([r.op, r.before, r.after, r.origin])]);
    return [...txs.values()].map((l) => l.sort());
  }

  for (const kind of ['items', 'swapped']) {
    it(`${kind}: the same rows per transaction, and per key the same changes in the same order`, () => {
      const row = logs.get(table(kind, 'row'))!;
      const statement = logs.get(table(kind, 'statement'))!;
      assert.ok(row.length > 5, `${row.length} rows at the row level`);
      assert.deepEqual(perTransaction(statement), perTransaction(row));
      assert.deepEqual(perKey(statement), perKey(row));
    });
  }

  it('records key moves with the old and the new key, never a plain update across two rows', () => {
    const statement = logs.get(table('items', 'statement'))!;
    const moves = statement.filter((r) => r.op === 'u' && r.before?.['id'] !== r.after?.['id']).map((r) => [r.before?.['id'], r.after?.['id'], r.before?.['v'], r.after?.['v']]);
    // Sorted: the order of rows inside one statement follows their physical order.
    assert.deepEqual(moves.sort(), [
      [1, 11, 'a1', 'a1'],
      [11, 21, 'a1', 'a1!'],
      [12, 30, 'b1!', 'b1!'],
      [2, 12, 'b1', 'b1'],
    ]);
    const swaps = logs.get(table('swapped', 'statement'))!.filter((r) => r.op === 'u').map((r) => [r.before?.['id'], r.after?.['id'], r.before?.['v'], r.after?.['v']]);
    assert.deepEqual(swaps.slice(0, 3).sort(), [
      [1, 2, 'one', 'one!'],
      [2, 1, 'two', 'two!'],
      [3, 3, 'three', 'three!'],
    ]);
  });

  it('records the writer\'s origin, and nothing for self-logged statements', () => {
    const statement = logs.get(table('items', 'statement'))!;
    assert.deepEqual(
      statement.filter((r) => r.origin !== null).map((r) => [r.op, r.after?.['id']]).sort(),
      [['c', 50], ['u', 41], ['u', 5]],
    );
    assert.ok(statement.every((r) => r.after?.['v'] !== 'self-logged'));
  });

  it('records one row per changed row of a multi-row statement, none for a statement that changed nothing', () => {
    const statement = logs.get(table('items', 'statement'))!;
    assert.equal(statement.filter((r) => r.op === 'c').length, 5 + 1 + 2 + 1 + 1);
    assert.equal(statement.filter((r) => r.op === 'd').length, 3);
    assert.ok(!statement.some((r) => r.after?.['v'] === 'x'));
  });

  it('switching the level replaces the installed triggers (what sync-ctl schema --apply runs)', async () => {
    await db.exec(`CREATE TABLE switched (id int PRIMARY KEY, v text)`);
    const triggers = async (): Promise<string[]> =>
      (await db.exec<{ tgname: string }>(`SELECT tgname FROM pg_trigger WHERE tgrelid = 'switched'::regclass AND NOT tgisinternal ORDER BY tgname`)).map((r) => r.tgname);
    const apply = async (level: Level): Promise<void> => {
      const yaml = `version: 1\nsystems:\n  legacy:\n    dialect: postgres\n    connection: { url: { env: X } }\n    tables:\n      - name: switched\n        key: [id]\n        capture: { mode: trigger, triggerLevel: ${level} }\n`;
      const legacy = createLegacyDb({ system: 'legacy', dialect: 'postgres', url: { reveal: () => db.url }, poolSize: 1 }, () => undefined);
      try {
        await applyDdl(legacy, changelogDdl(parsePipeline(yaml, 'test').systems.get('legacy')!));
      } finally {
        await legacy.close();
      }
    };
    await apply('row');
    assert.deepEqual(await triggers(), ['sync_capture']);
    await db.exec(`INSERT INTO switched VALUES (1, 'row level')`);
    await apply('statement');
    assert.deepEqual(await triggers(), ['sync_capture_delete', 'sync_capture_insert', 'sync_capture_key_move', 'sync_capture_update']);
    await db.exec(`INSERT INTO switched VALUES (2, 'statement level'); UPDATE switched SET v = v || '!'`);
    await apply('statement');
    await apply('row');
    assert.deepEqual(await triggers(), ['sync_capture']);
    await db.exec(`DELETE FROM switched`);
    const logged = await db.exec<Logged>(`SELECT id::text, tx::text, op, before, after, origin FROM sync.public_switched_changes ORDER BY id`);
    assert.deepEqual(logged.map((r) => [r.op, (r.after ?? r.before)?.['id'], (r.after ?? r.before)?.['v']]), [
      ['c', 1, 'row level'],
      ['c', 2, 'statement level'],
      ['u', 1, 'row level!'],
      ['u', 2, 'statement level!'],
      ['d', 1, 'row level!'],
      ['d', 2, 'statement level!'],
    ]);
  });
});
