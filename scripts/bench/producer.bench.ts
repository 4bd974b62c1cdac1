/**
 * Producer settings by measurement (npm run bench:producer [N]): N records shaped like the suite's
 * change events (a ~600-byte JSON value, 10 headers, keys spread over 5,000 entities) sent through
 * SyncProducer (idempotent, acks=all, one request in flight, as every app produces) to a fresh
 * topic, once per variant of request size and compression, and read back once per compression by
 * a consumer in this process. Each line: records/s of wall clock, records per CPU-second of this
 * process (process.cpuUsage; the broker is not counted).
 * N defaults to 100,000; KAFKA_BROKERS (default 127.0.0.1:19092). Prints figures only; nothing is asserted.
 */
import { randomBytes } from 'node:crypto';
import { KafkaConnection, silentLog, type OutboundRecord, type SyncProducerTuning } from '@sync/kafka';
import { runMain } from '../lib/script-main';
import { changeRecord } from './change-record.support';

interface Variant {
  readonly label: string;
  readonly tuning: SyncProducerTuning;
}

const KIB = 1024;
const VARIANTS: readonly Variant[] = [
  { label: '128 KiB, none', tuning: { maxRequestBytes: 128 * KIB, compression: 'none' } },
  { label: '512 KiB, none (default)', tuning: { maxRequestBytes: 512 * KIB, compression: 'none' } },
  { label: '900 KiB, none', tuning: { maxRequestBytes: 900 * KIB, compression: 'none' } },
  { label: '512 KiB, gzip', tuning: { maxRequestBytes: 512 * KIB, compression: 'gzip' } },
  { label: '2 MiB, gzip', tuning: { maxRequestBytes: 2048 * KIB, compression: 'gzip' } },
];

function cpuMs(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
}

async function produceRun(conn: KafkaConnection, n: number, variant: Variant, run: string): Promise<{ topic: string; wallMs: number; cpu: number }> {
  const topic = `bench.producer.${run}.${variant.label.replace(/[^a-z0-9]+/gi, '-')}`;
  const admin = conn.admin();
  await admin.connect();
  await admin.ensureTopics([{ topic }]);
  await admin.disconnect();
  const producer = conn.producer(variant.tuning);
  await producer.connect();
  const batch = 2000; // what a consumer batch hands the producer at most in the apps
  const records: OutboundRecord[][] = [];
  for (let i = 0; i < n; i += batch) {
    const slice: OutboundRecord[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) slice.push(changeRecord(topic, j));
    records.push(slice);
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const slice of records) await producer.send(slice);
  const wallMs = performance.now() - t0;
  const cpu = cpuMs(cpu0);
  await producer.disconnect();
  return { topic, wallMs, cpu };
}

async function readRun(conn: KafkaConnection, topic: string, n: number): Promise<{ wallMs: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const seen = (await conn.readAll(topic, 300_000)).length;
  if (seen !== n) throw new Error(`${topic}: read ${seen} records, expected ${n}`);
  return { wallMs: performance.now() - t0, cpu: cpuMs(cpu0) };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 100_000);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`N must be a positive integer, got '${process.argv[2]}'`);
  const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
  const conn = new KafkaConnection({ clientId: 'bench-producer', brokers }, silentLog);
  const run = randomBytes(3).toString('hex');
  const bytes = Buffer.byteLength(changeRecord('t', 1).value as string);
  console.log(`producer bench: ${n} records of ~${bytes} bytes + 10 headers, broker ${brokers.join(',')}, load ${(await loadAverage()).join(' ')}`);
  console.log('variant                       | produce rec/s wall | rec per CPU-s | read-back rec/s wall | read rec per CPU-s');
  const readDone = new Set<string>();
  for (const variant of VARIANTS) {
    const p = await produceRun(conn, n, variant, run);
    const compression = variant.tuning.compression ?? 'none';
    let read = '';
    if (!readDone.has(compression)) {
      readDone.add(compression);
      const r = await readRun(conn, p.topic, n);
      read = `${fmt(n / (r.wallMs / 1000)).padStart(20)} | ${fmt(n / (r.cpu / 1000)).padStart(18)}`;
    }
    console.log(`${variant.label.padEnd(29)} | ${fmt(n / (p.wallMs / 1000)).padStart(18)} | ${fmt(n / (p.cpu / 1000)).padStart(13)} | ${read}`);
  }
}

function fmt(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0);
}

async function loadAverage(): Promise<string[]> {
  const { loadavg } = await import('node:os');
  return loadavg().map((x) => x.toFixed(1));
}

runMain(main);
