/**
 * Rows/s the write-back applies into PostgreSQL (npm run bench:legacy-writeback). Workload, on a
 * fresh database with the trigger capture installed (every written row also gets its changelog
 * row, marked with the command's origin, as in production), through PostgresWritebackSink, batches
 * of B commands (one transaction each, as the consumer applies one fetched batch), every command
 * recorded in the inbox:
 *   1. N upserts of new rows (id int key, 4 columns);
 *   2. N partial updates (one column) of those rows, based on a changelog position (conflict check on);
 *   3. N inserts into a table whose key the database generates (bigserial), keys returned;
 *   4. N deletes by key.
 * N defaults to 100,000, B to 1,000 and C to 1 (arguments 1, 2 and 3). C > 1 applies C batches at
 * a time on disjoint keys, as the consumer does for C partitions (partitionsConsumedConcurrently,
 * default 4). Prints rows/s per phase (wall clock, including building the commands) and the share
 * spent inside applyBatch, and writes bench-results/legacy-writeback.json. Nothing is asserted.
 * The machine's load average is printed too: on a shared machine it moves every figure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePipeline, type TableConfig } from '@sync/config';
import { applyDdl, changelogDdl, createLegacyDb, createWritebackSink, type SinkCommand } from '@sync/legacy-db';
import { LegacyDatabase } from '../../test/support/legacy-database';
import { repoRoot } from '../../test/support/test-env';
import { runMain } from '../lib/script-main';

const N = Number(process.argv[2] ?? 100_000);
const B = Number(process.argv[3] ?? 1_000);
const C = Number(process.argv[4] ?? 1);

function command(i: number, op: 'upsert' | 'delete', key: Record<string, unknown>, columns: Record<string, unknown>, basedOn?: string): SinkCommand {
  return { commandId: `bench-${op}-${i}-${Object.keys(columns).join('')}`, op, globalId: `g-${i}`, key, columns, occurredAt: new Date().toISOString(), origin: 'bench', ...(basedOn ? { basedOn } : {}) };
}

const load = (): string => os.loadavg()[0]!.toFixed(1);

async function main(): Promise<void> {
  const db = await LegacyDatabase.create('bench_writeback');
  try {
    await db.exec(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL, price numeric(10,2), updated_at timestamptz);
                   CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL)`);
    const poolSize = Math.max(4, C);
    const pipeline = parsePipeline(
      `version: 1\nsystems:\n  bench:\n    dialect: postgres\n    connection:\n      url: { env: X }\n      poolSize: ${poolSize}\n    tables:\n      - name: items\n        key: [id]\n        capture: { mode: trigger }\n        conflictPolicy: legacy-wins\n      - name: notes\n        key: [id]\n        capture: { mode: trigger }\n        generatedKey: true\n`,
      'bench',
    );
    const system = pipeline.systems.get('bench')!;
    const legacy = createLegacyDb({ system: 'bench', dialect: 'postgres', url: { reveal: () => db.url }, poolSize }, () => undefined);
    await applyDdl(legacy, changelogDdl(system));
    const sink = createWritebackSink(legacy, system);
    const [items, notes] = system.tables as [TableConfig, TableConfig];
    const now = new Date().toISOString();
    const settings = await db.exec<{ sc: string; v: string }>("SELECT current_setting('synchronous_commit') AS sc, current_setting('server_version') AS v");
    const results: Record<string, { rows_per_s: number; seconds: number; in_sink_pct: number; load: number }> = {};

    async function phase(name: string, table: TableConfig, make: (i: number) => SinkCommand): Promise<void> {
      const batches: Array<[number, number]> = [];
      for (let from = 0; from < N; from += B) batches.push([from, Math.min(N, from + B)]);
      let inSink = 0n;
      const started = process.hrtime.bigint();
      // C workers take batches in turn: the same keys never travel in two concurrent batches.
      await Promise.all(
        Array.from({ length: C }, async (_, w) => {
          for (let b = w; b < batches.length; b += C) {
            const [from, to] = batches[b]!;
            const batch: SinkCommand[] = [];
            for (let i = from; i < to; i++) batch.push(make(i));
            const t0 = process.hrtime.bigint();
            await sink.applyBatch(table, batch);
            inSink += process.hrtime.bigint() - t0;
          }
        }),
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rowsPerS = Math.round(N / seconds);
      const inSinkPct = Math.round((Number(inSink) / 1e9 / C / seconds) * 100);
      results[name] = { rows_per_s: rowsPerS, seconds: Number(seconds.toFixed(2)), in_sink_pct: inSinkPct, load: Number(load()) };
      console.log(`${name.padEnd(52)} ${N} rows in ${seconds.toFixed(2)} s = ${rowsPerS.toLocaleString('en-US').padStart(6)} rows/s (${inSinkPct} % in applyBatch, load ${load()})`);
    }

    console.log(
      `legacy-writeback → PostgreSQL ${settings[0]!.v}, ${N} rows per phase, batches of ${B}, ${C} at a time, trigger capture + inbox on, synchronous_commit=${settings[0]!.sc}, ${os.cpus().length} cores, load ${load()}`,
    );
    await phase('upsert new rows (4 columns)', items, (i) => command(i, 'upsert', { id: i }, { name: `item-${i}`, qty: i % 100, price: '9.99', updated_at: now }));
    await phase('partial update (1 column, conflict check)', items, (i) => command(i, 'upsert', { id: i }, { qty: 1 }, '1'));
    await phase('insert with generated key (nextval, keys returned)', notes, (i) => command(i, 'upsert', {}, { body: `note-${i}` }));
    await phase('delete by key', items, (i) => command(i, 'delete', { id: i }, {}));
    await legacy.close();
    const out = path.join(repoRoot, 'bench-results');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      path.join(out, 'legacy-writeback.json'),
      JSON.stringify({ at: new Date().toISOString(), rows: N, batch: B, concurrent_batches: C, synchronous_commit: settings[0]!.sc, phases: results }, null, 2),
    );
  } finally {
    await db.drop();
  }
}

runMain(main);
