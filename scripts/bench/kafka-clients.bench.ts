/**
 * kafkajs against Confluent's client, in one run (npm run bench:kafka-clients [N]): each client
 * runs in a child process of its own (so RSS and CPU are its own), through the suite's own
 * SyncProducer and BatchConsumerRunner, on a fresh one-partition topic:
 *   produce  N change-event-shaped records (~600 B JSON, 10 headers) in sends of 2,000 (what one
 *            consumer batch hands the producer in the apps): rows/s, p99 of one send;
 *   consume  the N records from the start by a batch consumer committing after every batch: rows/s
 *            from its first batch (the group join before it is printed apart, in s);
 *   latency  300 single records, each sent once the previous one arrived: p50/p99 from send to handler;
 * with CPU-seconds of the child process per phase and its peak RSS. The Confluent child fails when
 * @confluentinc/kafka-javascript is not installed (npm run kafka:confluent), never measures kafkajs
 * in its place. N defaults to 100,000; KAFKA_BROKERS (default 127.0.0.1:19092). Prints figures only.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { KafkaConnection, silentLog, type InboundMessage, type KafkaClientKind, type OutboundRecord } from '@sync/kafka';
import { runMain } from '../lib/script-main';
import { changeRecord } from './change-record.support';

const CLIENTS: readonly KafkaClientKind[] = ['kafkajs', 'confluent'];
const SEND_SIZE = 2000;
const LATENCY_SAMPLES = 300;

interface Figures {
  readonly client: KafkaClientKind;
  readonly produceRowsPerS: number;
  readonly produceP99Ms: number;
  readonly produceCpuS: number;
  readonly consumeRowsPerS: number;
  readonly consumeCpuS: number;
  readonly joinS: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly peakRssMiB: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function cpuSeconds(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
}

async function until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** One client's run, in this (child) process; prints its figures as one JSON line. */
async function measure(client: KafkaClientKind, n: number, brokers: string[]): Promise<void> {
  const conn = new KafkaConnection({ clientId: `bench-clients-${client}`, brokers, client }, silentLog);
  if (conn.client !== client) throw new Error(`asked for the ${client} client, the connection runs on ${conn.client}: npm run kafka:confluent`);
  const run = `${client}.${randomBytes(3).toString('hex')}`;
  const topic = `bench.clients.${run}`;
  const latencyTopic = `bench.clients.${run}.latency`;
  const admin = conn.admin();
  await admin.connect();
  await admin.ensureTopics([{ topic }, { topic: latencyTopic }, { topic: 'dlq.bench-clients' }]);

  const producer = conn.producer();
  await producer.connect();
  const sends: OutboundRecord[][] = [];
  for (let i = 0; i < n; i += SEND_SIZE) sends.push(Array.from({ length: Math.min(SEND_SIZE, n - i) }, (_, j) => changeRecord(topic, i + j)));
  const sendMs: number[] = [];
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  for (const records of sends) {
    const s0 = performance.now();
    await producer.send(records);
    sendMs.push(performance.now() - s0);
  }
  const produceWall = (performance.now() - t0) / 1000;
  const produceCpuS = cpuSeconds(cpu0);

  let consumed = 0;
  let firstBatchAt: number | undefined;
  cpu0 = process.cpuUsage();
  t0 = performance.now();
  const consumer = conn.batchConsumer(producer, {
    app: 'bench-clients',
    groupId: `bench-clients-${run}`,
    topics: [topic],
    fromBeginning: true,
    handler: async (batch) => {
      firstBatchAt ??= performance.now();
      consumed += batch.length;
    },
  });
  await consumer.start();
  await until(`${n} consumed records`, () => consumed >= n, 600_000);
  const consumeEnd = performance.now();
  const joinS = ((firstBatchAt ?? consumeEnd) - t0) / 1000;
  const consumeWall = (consumeEnd - (firstBatchAt ?? t0)) / 1000;
  const consumeCpuS = cpuSeconds(cpu0);
  await consumer.stop();

  const arrived = new Map<string, number>();
  const latencyConsumer = conn.batchConsumer(producer, {
    app: 'bench-clients',
    groupId: `bench-clients-${run}-latency`,
    topics: [latencyTopic],
    fromBeginning: true,
    handler: async (batch: readonly InboundMessage[]) => {
      const now = performance.now();
      for (const m of batch) arrived.set(m.value?.toString() ?? '', now);
    },
  });
  await latencyConsumer.start();
  // The first record waits for the group join: it is sent and awaited before the samples.
  await producer.send([{ topic: latencyTopic, key: 'warm-up', value: 'warm-up' }]);
  await until('the latency consumer to join', () => arrived.has('warm-up'), 120_000);
  const latencyMs: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const value = `sample-${i}`;
    const s0 = performance.now();
    await producer.send([{ topic: latencyTopic, key: 'k', value }]);
    await until(value, () => arrived.has(value), 30_000);
    latencyMs.push(arrived.get(value)! - s0);
  }
  await latencyConsumer.stop();
  await producer.disconnect();
  await admin.disconnect();

  sendMs.sort((a, b) => a - b);
  latencyMs.sort((a, b) => a - b);
  const figures: Figures = {
    client,
    produceRowsPerS: n / produceWall,
    produceP99Ms: percentile(sendMs, 99),
    produceCpuS,
    consumeRowsPerS: n / consumeWall,
    consumeCpuS,
    joinS,
    latencyP50Ms: percentile(latencyMs, 50),
    latencyP99Ms: percentile(latencyMs, 99),
    // maxRSS is in KiB: the peak of this process over the whole run.
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(figures));
}

function fmt(x: number, digits = 0): string {
  return x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(digits);
}

async function main(): Promise<void> {
  const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
  const childClient = process.env['BENCH_KAFKA_CLIENT'];
  const n = Number(process.argv[2] ?? 100_000);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`N must be a positive integer, got '${process.argv[2]}'`);
  if (childClient !== undefined) return measure(childClient as KafkaClientKind, n, brokers);

  console.log(`kafka clients bench: ${n} records of ~${Buffer.byteLength(changeRecord('t', 1).value as string)} B + 10 headers, sends of ${SEND_SIZE}, ${LATENCY_SAMPLES} latency samples, broker ${brokers.join(',')}`);
  console.log('client    | produce rows/s | send p99 ms | produce CPU-s | join s | consume rows/s | consume CPU-s | e2e p50 ms | e2e p99 ms | peak RSS MiB | load (1/5/15 min)');
  for (const client of CLIENTS) {
    const load = loadavg().map((x) => x.toFixed(1)).join(' ');
    const out = execFileSync(process.execPath, [__filename, String(n)], { env: { ...process.env, BENCH_KAFKA_CLIENT: client }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 1_800_000 });
    const f = JSON.parse(out.trim().split('\n').pop()!) as Figures;
    console.log(
      [
        f.client.padEnd(9),
        fmt(f.produceRowsPerS).padStart(14),
        fmt(f.produceP99Ms, 1).padStart(11),
        f.produceCpuS.toFixed(2).padStart(13),
        f.joinS.toFixed(1).padStart(6),
        fmt(f.consumeRowsPerS).padStart(14),
        f.consumeCpuS.toFixed(2).padStart(13),
        f.latencyP50Ms.toFixed(1).padStart(10),
        f.latencyP99Ms.toFixed(1).padStart(10),
        f.peakRssMiB.toFixed(0).padStart(12),
        load,
      ].join(' | '),
    );
  }
}

runMain(main);
