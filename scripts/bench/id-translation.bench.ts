// Translations per second of the legacy -> keyed path against a real PostgreSQL key map (no Kafka:
// it measures the key map, not the broker). Workload: 20,000 change events in batches of 500,
// half customers and half orders whose foreign key points at a customer; pass 1 sees every key for
// the first time (insert + read back), pass 2 replays the same events with a warm cache and pass 3
// with a cold cache (batched lookups only).
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { parsePipeline } from '@sync/config';
import { connectKeymap, createKeymapDataSource, KeymapRepository, TableIndex } from '@sync/keymap';
import type { InboundMessage } from '@sync/kafka';
import type { DataSource } from 'typeorm';
import { LegacyTranslator } from '../../apps/id-translation/src/legacy.translator';

const EVENTS = 20_000;
const BATCH = 500;
const base = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const pipeline = parsePipeline(
  `version: 1
systems:
  crm:
    dialect: postgres
    connection: { host: db, database: crm }
    tables:
      - { name: customers, key: [id] }
      - name: orders
        key: [id]
        foreignKeys: [{ columns: [customer_id], references: { table: customers, columns: [id] } }]
`,
  'bench.yaml',
);

function message(i: number): InboundMessage {
  const table = i % 2 === 0 ? 'customers' : 'orders';
  const after = table === 'customers' ? { id: i, name: `c${i}` } : { id: i, customer_id: i - 1, total: i };
  const value = { op: 'c', before: null, after, source: { system: 'crm', schema: 'public', table, position: String(i), committedAt: '2025-01-01T00:00:00Z', txId: null }, ts_ms: i };
  return { topic: `legacy.crm.public.${table}`, partition: 0, offset: String(i), key: null, value: Buffer.from(JSON.stringify(value)), headers: {}, timestamp: '0' };
}

/**
 * Wall rate, and rates per CPU-second: of this process, and of this process plus the PostgreSQL
 * backends serving the bench database (the machine is shared: wall time includes waiting for a core).
 */
interface Rate {
  readonly wall: number;
  readonly cpu: number;
  readonly withDb: number | undefined;
}

/** CPU seconds used so far by the backends connected to `database`, from /proc; undefined when PostgreSQL is not local. */
async function backendCpuSeconds(admin: DataSource, database: string): Promise<Map<number, number> | undefined> {
  const pids = (await admin.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database])) as Array<{ pid: number }>;
  const out = new Map<number, number>();
  for (const { pid } of pids) {
    try {
      // Fields 14 and 15 (utime, stime, in clock ticks of 1/100 s) after the parenthesised command name.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      return undefined;
    }
  }
  return out;
}

async function run(translator: LegacyTranslator, messages: InboundMessage[], db: () => Promise<Map<number, number> | undefined>): Promise<Rate> {
  const dbBefore = await db();
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (let i = 0; i < messages.length; i += BATCH) await translator.translate(messages.slice(i, i + BATCH));
  const used = process.cpuUsage(cpu);
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const dbAfter = await db();
  const nodeSeconds = (used.user + used.system) / 1e6;
  let dbSeconds: number | undefined;
  if (dbBefore && dbAfter) {
    dbSeconds = 0;
    for (const [pid, seconds] of dbAfter) dbSeconds += seconds - (dbBefore.get(pid) ?? 0);
  }
  return { wall: messages.length / wall, cpu: messages.length / nodeSeconds, withDb: dbSeconds === undefined ? undefined : messages.length / (nodeSeconds + dbSeconds) };
}

function show(rate: Rate): string {
  const withDb = rate.withDb === undefined ? 'n/a' : rate.withDb.toFixed(0);
  return `${rate.wall.toFixed(0).padStart(6)} translations/s wall | per CPU-second: ${rate.cpu.toFixed(0).padStart(6)} node, ${withDb.padStart(6)} node + PostgreSQL`;
}

async function main(): Promise<void> {
  const name = `bench_idtrans_${Date.now().toString(36)}`;
  // The maintenance database through TypeORM too (pg itself is reserved to libs/legacy-db).
  const admin = createKeymapDataSource(base, { poolSize: 1 });
  await admin.initialize();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const dataSource = createKeymapDataSource(url.toString());
  try {
    await connectKeymap(dataSource);
    const index = new TableIndex(pipeline);
    const repository = new KeymapRepository(dataSource);
    const db = (): Promise<Map<number, number> | undefined> => backendCpuSeconds(admin, name);
    const messages = Array.from({ length: EVENTS }, (_, i) => message(i + 1));
    const warm = new LegacyTranslator(index, repository, 100_000);
    const first = await run(warm, messages, db);
    const cached = await run(warm, messages, db);
    const cold = await run(new LegacyTranslator(index, repository, 0), messages, db);
    // New keys again, in a process whose code is compiled by now (a long-running translator's case).
    const fresh = await run(new LegacyTranslator(index, repository, 100_000), Array.from({ length: EVENTS }, (_, i) => message(EVENTS + i + 1)), db);
    console.log(`id-translation legacy->keyed, ${EVENTS} events (customers + orders with one FK), batches of ${BATCH}, PostgreSQL key map:`);
    console.log(`  first sight (insert ids):     ${show(first)}`);
    console.log(`  replay, warm LRU cache:       ${show(cached)}`);
    console.log(`  replay, no cache (lookups):   ${show(cold)}`);
    console.log(`  first sight, warmed-up node:  ${show(fresh)}`);
  } finally {
    await dataSource.destroy();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.destroy();
  }
}

void main();
