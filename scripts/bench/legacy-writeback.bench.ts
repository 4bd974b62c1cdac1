/**
 * Rows/s the write-back applies into PostgreSQL (npm run bench:legacy-writeback). Workload, on a
 * fresh database with the trigger capture installed (every written row also writes its changelog
 * row, as in production), through PostgresWritebackSink, batches of B commands (one transaction
 * each, as the consumer applies one fetched batch):
 *   1. N upserts of new rows (id int key, 4 columns), every one recorded in the inbox;
 *   2. N partial updates (one column) of those rows, based on a changelog position (conflict check on);
 *   3. N inserts into a table whose key the database generates (bigserial), keys returned;
 *   4. N deletes by key.
 * N defaults to 100,000 and B to 1,000 (arguments 1 and 2). Prints figures only; nothing is asserted.
 */
import { parsePipeline } from '@sync/config';
import { applyDdl, changelogDdl, createLegacyDb, createWritebackSink, type SinkCommand } from '@sync/legacy-db';
import { LegacyDatabase } from '../../test/support/legacy-database';

const N = Number(process.argv[2] ?? 100_000);
const B = Number(process.argv[3] ?? 1_000);

function command(i: number, op: 'upsert' | 'delete', key: Record<string, unknown>, columns: Record<string, unknown>, basedOn?: string): SinkCommand {
  return { commandId: `bench-${op}-${i}-${Object.keys(columns).join('')}`, op, globalId: `g-${i}`, key, columns, occurredAt: new Date().toISOString(), origin: 'bench', ...(basedOn ? { basedOn } : {}) };
}

async function main(): Promise<void> {
  const db = await LegacyDatabase.create('bench_writeback');
  try {
    await db.exec(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL, price numeric(10,2), updated_at timestamptz);
                   CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL)`);
    const pipeline = parsePipeline(
      `version: 1\nsystems:\n  bench:\n    dialect: postgres\n    connection:\n      url: { env: X }\n      poolSize: 4\n    tables:\n      - name: items\n        key: [id]\n        capture: { mode: trigger }\n        conflictPolicy: legacy-wins\n      - name: notes\n        key: [id]\n        capture: { mode: trigger }\n        generatedKey: true\n`,
      'bench',
    );
    const system = pipeline.systems.get('bench')!;
    const legacy = createLegacyDb({ system: 'bench', dialect: 'postgres', url: { reveal: () => db.url }, poolSize: 4 }, () => undefined);
    await applyDdl(legacy, changelogDdl(system));
    const sink = createWritebackSink(legacy, system);
    const [items, notes] = system.tables as [typeof system.tables[0], typeof system.tables[0]];
    const now = new Date().toISOString();

    async function phase(name: string, table: typeof items, make: (i: number) => SinkCommand): Promise<void> {
      const started = process.hrtime.bigint();
      for (let from = 0; from < N; from += B) {
        const batch: SinkCommand[] = [];
        for (let i = from; i < Math.min(N, from + B); i++) batch.push(make(i));
        await sink.applyBatch(table, batch);
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      console.log(`${name.padEnd(48)} ${N} rows in ${seconds.toFixed(2)} s = ${Math.round(N / seconds).toLocaleString('en-US')} rows/s`);
    }

    console.log(`legacy-writeback → PostgreSQL, ${N} rows per phase, batches of ${B}, trigger capture + inbox on`);
    await phase('upsert new rows (4 columns)', items, (i) => command(i, 'upsert', { id: i }, { name: `item-${i}`, qty: i % 100, price: '9.99', updated_at: now }));
    await phase('partial update (1 column, conflict check)', items, (i) => command(i, 'upsert', { id: i }, { qty: 1 }, '1'));
    await phase('insert with generated key (nextval, keys returned)', notes, (i) => command(i, 'upsert', {}, { body: `note-${i}` }));
    await phase('delete by key', items, (i) => command(i, 'delete', { id: i }, {}));
    await legacy.close();
  } finally {
    await db.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
