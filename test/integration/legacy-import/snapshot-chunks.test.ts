import { isDeepStrictEqual } from 'node:util';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AppProcess } from '../../support/app-process';
import { importEntities } from '../../support/legacy-import-app';
import { testBrokers } from '../../support/test-env';
import { TopicCollector, type Collected } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { ADMIN_TOKEN, ImportHarness, type ChangeValue } from './import-harness';

// The pipelined snapshot (chunk n+1 read while chunk n is published, slices in flight) with small
// chunks: every row exactly once, in key order, while the table is written; and after a kill -9
// in the middle, the same snapshot resumes from the last saved chunk and loses nothing.

type UserRow = { id: number; name: string; n: number };

function value(c: Collected): ChangeValue {
  return c.value as ChangeValue;
}

function idOf(c: Collected): number {
  return (c.key as { id: number }).id;
}

/** Replays events per key in topic order: the table state a consumer would end up with. */
function fold(events: readonly Collected[]): Map<number, Record<string, unknown>> {
  const state = new Map<number, Record<string, unknown>>();
  for (const e of events) {
    const v = value(e);
    if (v.op === 'd') state.delete(idOf(e));
    else state.set(idOf(e), v.after!);
  }
  return state;
}

async function foldsToTable(h: ImportHarness, events: TopicCollector, table: string): Promise<void> {
  let last = '';
  await waitFor(`${table}: the published changes fold to the table state`, async () => {
    const rows = await h.db.exec<UserRow>(`SELECT id, name, n FROM ${table}`);
    const state = fold(events.on(h.topic(table)));
    const wrong = rows.filter((r) => !isDeepStrictEqual(state.get(r.id), r));
    const extra = [...state.keys()].filter((id) => !rows.some((r) => r.id === id));
    if (wrong.length === 0 && extra.length === 0) return true;
    const w = wrong[0];
    last = `${wrong.length} rows differ (e.g. table ${JSON.stringify(w)}, events ${JSON.stringify(w && state.get(w.id))}), ${extra.length} extra (e.g. ${extra[0]}), ${events.on(h.topic(table)).length} events`;
    return undefined;
  }, 300_000, 500).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}: ${last}`);
  });
}

function gauge(metrics: string, name: string, entity: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{entity="${entity}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

async function startImporter(h: ImportHarness): Promise<AppProcess> {
  const app = await AppProcess.start('legacy-import', { KAFKA_BROKERS: testBrokers().join(','), LOG_LEVEL: 'warn', PIPELINE_FILE: h.pipelineFile, LEGACY_DATABASE_URL: h.db.url, ADMIN_TOKEN });
  h.apps.push(app);
  return app;
}

const CHUNKS = [1, 7, 1000] as const;
const ROWS = 2500;
/** Rows 1..KEPT are updated during the snapshot, never deleted: each must be read exactly once. */
const KEPT = 2000;

describe('legacy-import: pipelined snapshot with chunks of 1, 7 and 1000 rows while the tables are written', () => {
  let h: ImportHarness;
  let events: TopicCollector;
  after(async () => {
    await events?.stop();
    await h?.close();
  });

  it('publishes every row once, in key order, and ends with exactly the final table state', async () => {
    h = await ImportHarness.create(
      CHUNKS.map((c) => `CREATE TABLE users_c${c} (id int PRIMARY KEY, name text, n int); INSERT INTO users_c${c} SELECT g, 'n' || g, 0 FROM generate_series(1, ${ROWS}) g;`).join('\n'),
      CHUNKS.map((c) => `      - name: users_c${c}\n        key: [id]\n        capture: { mode: trigger, batchSize: 100, pollIntervalMs: 100, snapshotChunkSize: ${c} }\n`).join(''),
    );
    const tables = CHUNKS.map((c) => `users_c${c}`);
    events = await new TopicCollector().start(tables.map((t) => h.topic(t)));
    const app = await startImporter(h);
    let writing = true;
    let i = 0;
    // Updates all over the key range, deletes and inserts above KEPT, until every snapshot is done.
    const writer = (async () => {
      while (writing || i < 20) {
        for (const t of tables) {
          await h.db.transaction([
            [`UPDATE ${t} SET n = n + 1, name = $2 WHERE id = $1`, [1 + ((i * 797) % KEPT), `u${i}`]],
            [`DELETE FROM ${t} WHERE id = $1`, [KEPT + 1 + ((i * 13) % (ROWS - KEPT))]],
            [`INSERT INTO ${t} VALUES ($1, 'new', 0) ON CONFLICT (id) DO NOTHING`, [10_000 + i]],
          ]);
        }
        i++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await waitFor('every snapshot finished', async () => {
        const list = await importEntities(app, ADMIN_TOKEN).catch(() => []);
        return list.length === tables.length && list.every((e) => e.state?.phase === 'streaming') ? true : undefined;
      }, 300_000, 200);
    } finally {
      writing = false;
      await writer;
    }
    const metrics = await fetch(app.url('/metrics')).then((r) => r.text());
    for (const t of tables) {
      await foldsToTable(h, events, t);
      const reads = events.on(h.topic(t)).filter((e) => value(e).op === 'r');
      const ids = reads.map(idOf);
      assert.equal(new Set(ids).size, ids.length, `${t}: no row read twice`);
      const seen = new Set(ids);
      for (let id = 1; id <= KEPT; id++) assert.ok(seen.has(id), `${t}: row ${id} was read`);
      assert.ok(ids.every((id, k) => k === 0 || id > ids[k - 1]!), `${t}: snapshot rows in key order`);
      assert.equal(new Set(reads.map((e) => value(e).source.position.split(':')[1])).size, 1, `${t}: one snapshot run`);
      assert.equal(gauge(metrics, 'sync_snapshot_rows_done', `${h.system}.public.${t}`), reads.length, `${t}: rows done`);
    }
    process.stderr.write(`pipelined snapshot test: ${i} write rounds during the snapshots\n`);
  });
});

describe('legacy-import: kill -9 in the middle of a pipelined snapshot, restart', () => {
  let h: ImportHarness;
  let events: TopicCollector;
  after(async () => {
    await events?.stop();
    await h?.close();
  });

  it('resumes the same snapshot after the last saved chunk: every row read, at most one chunk twice, nothing lost', async () => {
    const rows = 6000;
    const chunk = 7;
    h = await ImportHarness.create(
      `CREATE TABLE users (id int PRIMARY KEY, name text, n int); INSERT INTO users SELECT g, 'n' || g, 0 FROM generate_series(1, ${rows}) g;`,
      `      - name: users\n        key: [id]\n        capture: { mode: trigger, batchSize: 100, pollIntervalMs: 100, snapshotChunkSize: ${chunk} }\n`,
    );
    const topic = h.topic('users');
    events = await new TopicCollector().start([topic]);
    const first = await startImporter(h);
    await waitFor('part of the snapshot published', () => events.on(topic).length >= 700, 120_000, 20);
    first.proc.kill('SIGKILL');
    await first.stop('SIGKILL');
    const before = events.on(topic).filter((e) => value(e).op === 'r').length;
    assert.ok(before < rows, `the kill came before the snapshot finished (${before} of ${rows} rows published)`);
    // Written while nobody captures: the stream after the snapshot carries these.
    await h.db.transaction([
      ['UPDATE users SET n = n + 1 WHERE id % 100 = 0', []],
      ['DELETE FROM users WHERE id BETWEEN 5990 AND 5995', []],
      [`INSERT INTO users VALUES (7000, 'late', 0)`, []],
    ]);
    await startImporter(h);
    await foldsToTable(h, events, 'users');

    const reads = events.on(topic).filter((e) => value(e).op === 'r');
    assert.equal(new Set(reads.map((e) => value(e).source.position.split(':')[1])).size, 1, 'the restart resumed the same snapshot run');
    const firstRead = new Map<number, Record<string, unknown>>();
    let duplicates = 0;
    for (const e of reads) {
      const earlier = firstRead.get(idOf(e));
      if (earlier === undefined) {
        firstRead.set(idOf(e), value(e).after!);
        continue;
      }
      duplicates++;
      assert.equal(e.message.headers['event-id'], `${h.system}.public.users:${value(e).source.position}`, 'a repeated read keeps its event id');
    }
    for (let id = 1; id <= rows; id++) {
      if (id < 5990 || id > 5995) assert.ok(firstRead.has(id), `row ${id} was read`);
    }
    assert.ok(duplicates <= chunk, `at most one chunk read twice, got ${duplicates} duplicates`);
    process.stderr.write(`snapshot kill -9 test: killed after ${before} rows, ${duplicates} rows read twice\n`);
  });
});
