import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipeline, type SystemConfig } from '@sync/config';
import { changelogDdl } from '@sync/legacy-db';

const dropDdl = (s: SystemConfig): string[] => changelogDdl(s, true);

function system(capture: string, key = '[id]'): SystemConfig {
  const p = parsePipeline(
    `version: 1
systems:
  crm:
    dialect: postgres
    connection: { url: { env: X } }
    tables:
      - name: Order Lines
        schema: sales
        key: ${key}
        capture: ${capture}
`,
    'test',
  );
  return p.systems.get('crm')!;
}

const ddl = (capture: string, key?: string): string[] => changelogDdl(system(capture, key));

describe('PostgreSQL capture trigger DDL: capture.triggerLevel', () => {
  it('defaults to the statement level: one trigger per event with transition tables, one INSERT … SELECT each', () => {
    const all = ddl('{ mode: trigger }').join('\n');
    assert.match(all, /CREATE TRIGGER "sync_capture_insert" AFTER INSERT ON "sales"\."Order Lines" REFERENCING NEW TABLE AS sync_new FOR EACH STATEMENT/);
    assert.match(all, /CREATE TRIGGER "sync_capture_delete" AFTER DELETE ON "sales"\."Order Lines" REFERENCING OLD TABLE AS sync_old FOR EACH STATEMENT/);
    assert.match(all, /CREATE TRIGGER "sync_capture_update" AFTER UPDATE ON "sales"\."Order Lines" REFERENCING OLD TABLE AS sync_old NEW TABLE AS sync_new FOR EACH STATEMENT/);
    assert.match(all, /INSERT INTO "sync"\."sales_Order_Lines_changes" \("op", "after", "origin"\)\n\s+SELECT 'c', to_jsonb\(n\.\*\)/);
    assert.match(all, /SELECT 'd', to_jsonb\(o\.\*\)/);
    assert.doesNotMatch(all, /CREATE TRIGGER "sync_capture" /, 'no row trigger for every row');
  });

  it('records key moves row by row: a row trigger whose WHEN clause only lets rows with a changed (or NULL) key through', () => {
    const all = ddl('{ mode: trigger }', '[OrderNo, LineNo]').join('\n');
    const move = all.split(';').join('\n').match(/CREATE TRIGGER "sync_capture_key_move" AFTER UPDATE ON "sales"\."Order Lines" FOR EACH ROW\n\s+WHEN \((.*)\)\n\s+EXECUTE FUNCTION "sync"\."sales_Order_Lines_capture_stmt"\(\)/);
    assert.ok(move, all);
    assert.match(move[1]!, /ROW\(OLD\."OrderNo", OLD\."LineNo"\) IS DISTINCT FROM ROW\(NEW\."OrderNo", NEW\."LineNo"\) OR OLD\."OrderNo" IS NULL OR OLD\."LineNo" IS NULL/);
    assert.match(move[1]!, /current_setting\('sync\.self_logged', true\) IS DISTINCT FROM '"sales"\."Order Lines"'/);
    // Updates are paired on the whole key, leaving out the keys this statement's moves left or took.
    assert.match(all, /FROM \(SELECT row_number\(\) OVER \(\) AS sync_ord, to_jsonb\(n\.\*\) AS sync_image, n\."OrderNo" AS sync_k0, n\."LineNo" AS sync_k1 FROM sync_new AS n\) AS s JOIN sync_old AS o ON o\."OrderNo" = s\.sync_k0 AND o\."LineNo" = s\.sync_k1/);
    assert.match(all, /IF first_move = '' THEN/, 'no moves: one plain join');
    assert.match(all, /moved\.new_key = jsonb_build_array\(to_jsonb\(s\.sync_k0\), to_jsonb\(s\.sync_k1\)\)/);
    assert.match(all, /moved\.old_key = jsonb_build_array\(to_jsonb\(o\."OrderNo"\), to_jsonb\(o\."LineNo"\)\)/);
    assert.match(all, /jsonb_build_array\(m\."after" -> 'OrderNo', m\."after" -> 'LineNo'\) AS new_key/);
  });

  it('keeps the origin marker and the self-logged skip on every trigger', () => {
    const all = ddl('{ mode: trigger }');
    const triggers = all.filter((s) => s.startsWith('CREATE TRIGGER'));
    assert.equal(triggers.length, 4);
    for (const t of triggers) assert.match(t, /WHEN \(current_setting\('sync\.self_logged', true\) IS DISTINCT FROM '"sales"\."Order Lines"'/);
    const fn = all.find((s) => s.includes('_capture_stmt"()'))!;
    assert.equal(fn.match(/NULLIF\(current_setting\('sync\.origin', true\), ''\)/g)?.length, 5);
  });

  it('the row level is today\'s single row trigger, without the statement function', () => {
    const all = ddl('{ mode: trigger, triggerLevel: row }');
    const triggers = all.filter((s) => s.startsWith('CREATE TRIGGER'));
    assert.equal(triggers.length, 1);
    assert.match(triggers[0]!, /CREATE TRIGGER "sync_capture" AFTER INSERT OR UPDATE OR DELETE ON "sales"\."Order Lines" FOR EACH ROW/);
    assert.ok(!all.some((s) => s.includes('_capture_stmt')));
    assert.ok(all.some((s) => s.startsWith('CREATE OR REPLACE FUNCTION "sync"."sales_Order_Lines_capture"()')));
  });

  it('switching level drops the other level\'s triggers before creating its own', () => {
    for (const level of ['row', 'statement']) {
      const all = ddl(`{ mode: trigger, triggerLevel: ${level} }`);
      const firstCreate = all.findIndex((s) => s.startsWith('CREATE TRIGGER'));
      const drops = all.slice(0, firstCreate).filter((s) => s.startsWith('DROP TRIGGER IF EXISTS'));
      assert.deepEqual(
        drops.map((s) => s.split('"')[1]).sort(),
        ['sync_capture', 'sync_capture_delete', 'sync_capture_insert', 'sync_capture_key_move', 'sync_capture_update'],
      );
    }
  });

  it('notifies once per statement that wrote rows when notify is on', () => {
    const fn = ddl('{ mode: trigger, notify: true }').find((s) => s.includes('_capture_stmt"()'))!;
    assert.match(fn, /IF FOUND THEN\n\s+-- .*\n\s+PERFORM pg_notify\('sync_changes'/);
  });

  it('drops every trigger and both functions', () => {
    const drop = dropDdl(system('{ mode: trigger }')).join('\n');
    for (const t of ['sync_capture', 'sync_capture_insert', 'sync_capture_update', 'sync_capture_delete', 'sync_capture_key_move']) {
      assert.match(drop, new RegExp(`DROP TRIGGER IF EXISTS "${t}" ON "sales"\\."Order Lines"`));
    }
    assert.match(drop, /DROP FUNCTION IF EXISTS "sync"\."sales_Order_Lines_capture_stmt"\(\)/);
    assert.match(drop, /DROP FUNCTION IF EXISTS "sync"\."sales_Order_Lines_capture"\(\)/);
  });

  it('rejects an unknown level, naming the path', () => {
    assert.throws(() => system('{ mode: trigger, triggerLevel: table }'), /capture\.triggerLevel/);
    assert.throws(() => system('{ mode: cdc, triggerLevel: row }'), /triggerLevel/);
  });
});
