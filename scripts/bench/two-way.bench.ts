/**
 * End-to-end latency of the two-way pipeline and memory of each app (npm run bench:two-way, part
 * of npm run bench). The four apps run as separate processes (test/support/two-way-stack.ts: the
 * demo's pipeline, users -> UserChanged + AddressChanged and back, orders -> OrderPlaced) between
 * a fresh legacy PostgreSQL database on 127.0.0.1:5432 and the broker in KAFKA_BROKERS; this
 * process plays both the legacy application and the new service. For each rate (default 100/s
 * and 500/s, 20 s each):
 *   (a) legacy commit -> domain event: single-row transactions, alternately `UPDATE users SET name`
 *       and `INSERT INTO orders`, paced open-loop over `writers` sessions (runPaced); per change
 *       the time from COMMIT returning to the UserChanged / OrderPlaced carrying its marker value
 *       being consumed from the domain topic;
 *   (b) domain event -> legacy row: UserChanged events for existing users published as the new
 *       service does (CloudEvents binary mode, origin header), paced the same way; per event the
 *       time from the produce ack to the legacy row holding the new name (a trigger on this
 *       benchmark's own legacy database NOTIFYs the write-back's new names; we LISTEN).
 * Every change touches a different user, so the write-back never folds two of them into one.
 * Each change is also timed where it passes the intermediate topics (legacy.* and keyed.*;
 * writeback.* and resolved.*), so the table shows which hop the time goes to.
 * The peak RSS of each app (VmHWM from /proc/<pid>/status) is sampled during the run and read at
 * the end. Prints tables and writes bench-results/two-way.json. Nothing is asserted.
 *   --rates 100,500  --seconds 20  --writers 16 (legacy sessions / publishing workers)
 *   --producers 8    (publishing producers; one request in flight each, as the suite's producer)
 *   --capture notify (the demo's trigger: NOTIFY wake-up, poll 100 ms) | poll (notify: false,
 *                    polled every --poll-ms, default 20)
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { parsePipeline } from '@sync/config';
import { Headers, Topics } from '@sync/contracts';
import { KafkaConnection, silentLog, type InboundMessage, type SyncProducer } from '@sync/kafka';
import { applyDdl, changelogDdl, createLegacyDb } from '@sync/legacy-db';
import { dataSchemaUri, encodeDomainEvent } from '@sync/mapping';
import { testBrokers } from '../../test/support/test-env';
import { TwoWayStack } from '../../test/support/two-way-stack';
import { repoRoot, runMain } from '../lib/script-main';
import { waitUntil } from '../lib/wait';
import { latencySummary, procStatusBytes, runPaced, type LatencySummary, type PacedResult } from './fixed-rate.support';

const { values: opts } = parseArgs({
  options: {
    rates: { type: 'string', default: '100,500' },
    seconds: { type: 'string', default: '20' },
    writers: { type: 'string', default: '16' },
    producers: { type: 'string', default: '8' },
    capture: { type: 'string', default: 'notify' },
    'poll-ms': { type: 'string', default: '20' },
  },
});
const RATES = opts.rates!.split(',').map(Number);
const SECONDS = Number(opts.seconds);
const WRITERS = Number(opts.writers);
const PRODUCERS = Number(opts.producers);
const CAPTURE = opts.capture!;
const POLL_MS = Number(opts['poll-ms']);
if (RATES.some((r) => !(r > 0)) || !(SECONDS > 0) || !(WRITERS > 0) || !(PRODUCERS > 0) || !['notify', 'poll'].includes(CAPTURE) || !(POLL_MS >= 10)) {
  throw new Error('usage: two-way.bench.js [--rates 100,500] [--seconds 20] [--writers 16] [--producers 8] [--capture notify|poll] [--poll-ms 20]');
}
/** Each phase touches every user at most once. */
const USERS = Math.max(...RATES.map((r) => Math.round(r * SECONDS)));
const SERVICE_ORIGIN = 'svc:bench';
const WB_CHANNEL = 'bench_writeback';
/** How long a phase's last changes may take to arrive before they count as missing. */
const DRAIN_MS = 60_000;

/** Start and end times of markers, recorded in either order; one latency per marker. */
class MarkerClock {
  private readonly started = new Map<string, number>();
  private readonly early = new Map<string, number>();
  private readonly latency = new Map<string, number>();

  start(marker: string, at: number): void {
    const seen = this.early.get(marker);
    if (seen === undefined) this.started.set(marker, at);
    else {
      this.early.delete(marker);
      this.latency.set(marker, Math.max(0, seen - at));
    }
  }

  observe(marker: string, at: number): void {
    const start = this.started.get(marker);
    if (start === undefined) {
      if (!this.latency.has(marker)) this.early.set(marker, at);
      return;
    }
    this.started.delete(marker);
    this.latency.set(marker, at - start);
  }

  summary(markers: readonly string[]): LatencySummary {
    return latencySummary(markers.flatMap((m) => this.latency.get(m) ?? []), markers.length);
  }

  done(markers: readonly string[]): boolean {
    return markers.every((m) => this.latency.has(m));
  }
}

/** Where a change is seen: the topics between the two ends, and the ends. */
type Hop = 'legacy' | 'keyed' | 'domain' | 'writeback' | 'resolved' | 'row';
const HOPS_A = ['legacy', 'keyed'] as const;
const HOPS_B = ['writeback', 'resolved'] as const;
const HOP_LABEL: Record<Hop, string> = {
  legacy: 'commit -> on legacy.* (legacy-import)',
  keyed: 'commit -> on keyed.* (+ id-translation)',
  domain: 'commit -> domain event (+ domain-transform)',
  writeback: 'ack -> on writeback.* (domain-transform)',
  resolved: 'ack -> on resolved.* (+ id-translation)',
  row: 'ack -> legacy row (+ legacy-writeback)',
};

interface PhaseResult {
  readonly direction: 'legacy->domain' | 'domain->legacy';
  readonly targetRate: number;
  readonly paced: PacedResult;
  readonly latency: LatencySummary;
  readonly byKind?: Record<string, LatencySummary>;
  /** Time from the start to each intermediate topic. */
  readonly byHop: Partial<Record<Hop, LatencySummary>>;
}

interface AppMemory {
  readonly pid: number;
  /** Highest VmRSS seen by the 500 ms sampler. */
  sampledPeakMb: number;
  /** VmHWM after each phase, then at the end. */
  readonly hwmMb: Record<string, number>;
  rssEndMb: number;
}

const mb = (bytes: number): number => Math.round(bytes / 1048576);

/** What the steps of the benchmark share. */
interface Bench {
  readonly stack: TwoWayStack;
  readonly clocks: Record<Hop, MarkerClock>;
  /** Global ids of the preloaded users, by legacy id, learnt from their UserChanged events. */
  readonly globalIds: Map<number, string>;
  readonly producers: SyncProducer[];
  readonly sessions: Client[];
  readonly userTopic: string;
  /** The preloaded users (legacy id, global id), by legacy id. */
  users: Array<[number, string]>;
  /** Marker sequence: every change carries a value no other change has. */
  seq: number;
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const stack = await TwoWayStack.create();
  const kafka = new KafkaConnection({ brokers: testBrokers(), clientId: 'bench-two-way' }, silentLog);
  const clocks = Object.fromEntries((['legacy', 'keyed', 'domain', 'writeback', 'resolved', 'row'] as const).map((h) => [h, new MarkerClock()])) as Record<Hop, MarkerClock>;
  const bench: Bench = { stack, clocks, globalIds: new Map(), producers: [], sessions: [], userTopic: Topics.domain(stack.userAggregate, 1), users: [], seq: 0 };
  let listener: Client | undefined;
  let consumer: ReturnType<KafkaConnection['batchConsumer']> | undefined;
  let memory: MemoryWatch | undefined;
  try {
    await prepareLegacy(stack);
    await connectProducers(kafka, bench);
    listener = await listenForWriteback(bench);
    console.error(`[two-way] starting the four apps (capture: ${CAPTURE === 'notify' ? 'NOTIFY + poll 100 ms' : `notify off, poll ${POLL_MS} ms`})`);
    await stack.startApps();
    consumer = await consumeHops(kafka, bench);
    memory = watchMemory(stack);
    await preloadUsers(bench);
    memory.hwm('after preload');
    for (let w = 0; w < WRITERS; w++) bench.sessions.push(await stack.legacy.connect());
    const results = await runPhases(bench, memory);
    memory.finish();
    report(results, memory.apps, loadBefore, os.loadavg());
  } finally {
    memory?.stop();
    await consumer?.stop().catch(() => undefined);
    await listener?.end().catch(() => undefined);
    await Promise.all(bench.sessions.map((s) => s.end().catch(() => undefined)));
    await Promise.all(bench.producers.map((p) => p.disconnect().catch(() => undefined)));
    await stack.close();
  }
}

/** The capture mode asked for, and a trigger that NOTIFYs the write-back's new names at commit. */
async function prepareLegacy(stack: TwoWayStack): Promise<void> {
  await captureSettings(stack);
  // Only markers of (b) notify, so (a)'s legacy commits and the capture trigger are untouched.
  await stack.legacy.exec(`CREATE FUNCTION bench_writeback_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('${WB_CHANNEL}', NEW.name); RETURN NULL; END $$;
CREATE TRIGGER bench_writeback AFTER UPDATE ON users FOR EACH ROW WHEN (NEW.name LIKE 'wb-%') EXECUTE FUNCTION bench_writeback_notify()`);
}

async function connectProducers(kafka: KafkaConnection, bench: Bench): Promise<void> {
  for (let p = 0; p < PRODUCERS; p++) {
    const producer = kafka.producer();
    await producer.connect();
    bench.producers.push(producer);
  }
}

/** LISTENs for the write-back's new names: the end of (b). */
async function listenForWriteback(bench: Bench): Promise<Client> {
  const listener = await bench.stack.legacy.connect();
  listener.on('notification', (n) => bench.clocks.row.observe(n.payload ?? '', performance.now()));
  await listener.query(`LISTEN ${WB_CHANNEL}`);
  return listener;
}

/** Consumes every topic a change passes, timing its markers. Call after the apps started: they create their topics with their own settings; ours only subscribes. */
async function consumeHops(kafka: KafkaConnection, bench: Bench): Promise<ReturnType<KafkaConnection['batchConsumer']>> {
  const { stack } = bench;
  const table = (prefix: 'legacy' | 'keyed' | 'writeback' | 'resolved', name: string): string => Topics[prefix]({ system: stack.system, schema: 'public', table: name });
  const topics = [bench.userTopic, Topics.domain(stack.orderAggregate, 1), table('legacy', 'users'), table('legacy', 'orders'), table('keyed', 'users'), table('keyed', 'orders'), table('writeback', 'users'), table('resolved', 'users')];
  const admin = kafka.admin();
  await admin.ensureTopics(topics.map((topic) => ({ topic })));
  await admin.disconnect();
  const consumer = kafka.batchConsumer(bench.producers[0]!, {
    app: 'bench',
    groupId: `bench-two-way-${randomUUID()}`,
    topics,
    handler: async (batch) => {
      const now = performance.now();
      for (const m of batch) onMessage(m, now, bench.clocks, bench.globalIds);
    },
  });
  await consumer.start();
  return consumer;
}

interface MemoryWatch {
  readonly apps: ReadonlyMap<string, AppMemory>;
  /** Records every app's VmHWM under `label`. */
  hwm(label: string): void;
  /** Last sample, VmHWM at the end and RSS at the end. */
  finish(): void;
  stop(): void;
}

/** Samples each app's RSS every 500 ms. */
function watchMemory(stack: TwoWayStack): MemoryWatch {
  const apps = new Map<string, AppMemory>([...stack.apps].map(([name, app]) => [name, { pid: app.proc.pid!, sampledPeakMb: 0, hwmMb: {}, rssEndMb: 0 }]));
  const sample = (): void => {
    for (const m of apps.values()) {
      try {
        m.sampledPeakMb = Math.max(m.sampledPeakMb, mb(procStatusBytes(m.pid, 'VmRSS')));
      } catch {
        // the app exited: its figures stop here (the run fails below)
      }
    }
  };
  const sampler = setInterval(sample, 500);
  const hwm = (label: string): void => {
    for (const m of apps.values()) m.hwmMb[label] = mb(procStatusBytes(m.pid, 'VmHWM'));
  };
  return {
    apps,
    hwm,
    finish: () => {
      clearInterval(sampler);
      sample();
      hwm('end');
      for (const m of apps.values()) m.rssEndMb = mb(procStatusBytes(m.pid, 'VmRSS'));
    },
    stop: () => clearInterval(sampler),
  };
}

/** Users the phases touch: created through the pipeline, so each has its global id. */
async function preloadUsers(bench: Bench): Promise<void> {
  console.error(`[two-way] ${USERS} users through the pipeline`);
  await bench.stack.legacy.exec(
    `INSERT INTO users (name, email, street, city, zip) SELECT 'pre-' || g, 'user' || g || '@example.org', g || ' Bench St', 'Benchville', lpad(g::text, 5, '0') FROM generate_series(1, $1::int) g`,
    [USERS],
  );
  await waitUntil(`global ids of ${USERS} users`, () => bench.globalIds.size >= USERS, 300_000, 200);
  bench.users = [...bench.globalIds].sort(([a], [b]) => a - b);
}

function checkApps(stack: TwoWayStack): void {
  const dead = [...stack.apps.values()].filter((a) => !a.isRunning());
  if (dead.length > 0) throw new Error(`apps exited: ${dead.map((a) => a.app).join(', ')}\n${stack.logs()}`);
}

/** A warm-up, then (a) and (b) at each rate. */
async function runPhases(bench: Bench, memory: MemoryWatch): Promise<PhaseResult[]> {
  // First-use costs (connections, metadata, JIT) stay out of the figures.
  console.error('[two-way] warm-up');
  await legacyToDomain(bench, 20, 2);
  await domainToLegacy(bench, 20, 2);
  bench.seq = 10_000_000;
  checkApps(bench.stack);

  const results: PhaseResult[] = [];
  for (const rate of RATES) {
    console.error(`[two-way] (a) legacy commit -> domain event at ${rate}/s for ${SECONDS} s`);
    results.push(await legacyToDomain(bench, rate, SECONDS));
    checkApps(bench.stack);
    memory.hwm(`after (a) ${rate}/s`);
    console.error(`[two-way] (b) domain event -> legacy row at ${rate}/s for ${SECONDS} s`);
    results.push(await domainToLegacy(bench, rate, SECONDS));
    checkApps(bench.stack);
    memory.hwm(`after (b) ${rate}/s`);
  }
  return results;
}

/** (a) legacy commits: even operations update a user's name, odd ones insert an order. */
async function legacyToDomain(bench: Bench, rate: number, seconds: number): Promise<PhaseResult> {
  const { clocks, sessions, users } = bench;
  const kinds = { 'users UPDATE -> UserChanged': [] as string[], 'orders INSERT -> OrderPlaced': [] as string[] };
  const paced = await runPaced({
    rate,
    seconds,
    concurrency: WRITERS,
    operation: async (i, w) => {
      const n = ++bench.seq;
      const [legacyId] = users[Math.floor(i / 2) % users.length]!;
      const update = i % 2 === 0;
      const marker = update ? `lg-${n}` : `o${n}`;
      if (update) await sessions[w]!.query('UPDATE users SET name = $1, updated_at = now() WHERE id = $2', [marker, legacyId]);
      else await sessions[w]!.query('INSERT INTO orders (user_id, total) VALUES ($1, $2)', [legacyId, n]);
      const at = performance.now();
      for (const hop of [...HOPS_A, 'domain'] as const) clocks[hop].start(marker, at);
      (update ? kinds['users UPDATE -> UserChanged'] : kinds['orders INSERT -> OrderPlaced']).push(marker);
    },
  });
  const all = [...kinds['users UPDATE -> UserChanged'], ...kinds['orders INSERT -> OrderPlaced']];
  await waitUntil('domain events of every legacy change', () => clocks.domain.done(all), DRAIN_MS, 50).catch(() => undefined);
  return {
    direction: 'legacy->domain',
    targetRate: rate,
    paced,
    latency: clocks.domain.summary(all),
    byKind: Object.fromEntries(Object.entries(kinds).map(([k, m]) => [k, clocks.domain.summary(m)])),
    byHop: Object.fromEntries(HOPS_A.map((h) => [h, clocks[h].summary(all)])),
  };
}

/** (b) the new service's UserChanged for one user each, spread over the producers. */
async function domainToLegacy(bench: Bench, rate: number, seconds: number): Promise<PhaseResult> {
  const { clocks, producers, users, stack } = bench;
  const markers: string[] = [];
  const paced = await runPaced({
    rate,
    seconds,
    concurrency: WRITERS,
    operation: async (i) => {
      const n = ++bench.seq;
      const u = i % users.length;
      const [legacyId, globalId] = users[u]!;
      const marker = `wb-${n}`;
      const id = randomUUID();
      const data = { name: marker, email: `user${legacyId}@example.org` };
      const encoded = encodeDomainEvent({ id, source: '/services/bench', type: 'UserChanged', subject: globalId, time: new Date().toISOString(), dataschema: dataSchemaUri(stack.userAggregate, 1, 'UserChanged'), data });
      const headers = { ...encoded.headers, [Headers.eventId]: id, [Headers.origin]: SERVICE_ORIGIN, [Headers.causationId]: id };
      await producers[u % producers.length]!.send([{ topic: bench.userTopic, key: encoded.key, value: encoded.value, headers }]);
      const at = performance.now();
      for (const hop of [...HOPS_B, 'row'] as const) clocks[hop].start(marker, at);
      markers.push(marker);
    },
  });
  await waitUntil('legacy rows of every domain event', () => clocks.row.done(markers), DRAIN_MS, 50).catch(() => undefined);
  return {
    direction: 'domain->legacy',
    targetRate: rate,
    paced,
    latency: clocks.row.summary(markers),
    byHop: Object.fromEntries(HOPS_B.map((h) => [h, clocks[h].summary(markers)])),
  };
}

/** Prints the tables and writes bench-results/two-way.json (or two-way-poll.json). */
function report(results: readonly PhaseResult[], memory: ReadonlyMap<string, AppMemory>, loadBefore: number[], loadAfter: number[]): void {
  const captureText = CAPTURE === 'notify' ? 'trigger + NOTIFY wake-up, poll 100 ms' : `trigger, notify: false, poll ${POLL_MS} ms`;
  console.log(`\ntwo-way pipeline, four apps as processes; legacy PostgreSQL capture: ${captureText}; ${WRITERS} legacy sessions, ${PRODUCERS} publishing producers`);
  console.log(`load average (1/5/15 min): before ${loadBefore.map((l) => l.toFixed(1)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log(latencyTable(results));
  console.log('');
  console.log(memoryTable(memory));
  const out = path.join(repoRoot, 'bench-results');
  const file = CAPTURE === 'notify' ? 'two-way.json' : 'two-way-poll.json';
  mkdirSync(out, { recursive: true });
  writeFileSync(
    path.join(out, file),
    JSON.stringify(
      {
        at: new Date().toISOString(),
        workload: { rates: RATES, seconds: SECONDS, writers: WRITERS, producers: PRODUCERS, users: USERS, capture: captureText },
        loadAverage: { before: loadBefore, after: loadAfter },
        results,
        memoryMb: Object.fromEntries(memory),
      },
      null,
      2,
    ),
  );
  console.log(`\nJSON: ${path.join('bench-results', file)}`);
}

/** The marker a legacy row image carries: the new name of a user, or the total of an order. */
function rowMarker(row: Record<string, unknown> | null | undefined): string | undefined {
  if (!row) return undefined;
  if (typeof row['name'] === 'string') return row['name'];
  return row['total'] === undefined || row['total'] === null ? undefined : `o${Number(row['total'])}`;
}

/**
 * Records when a marker passes a topic (legacy.*, keyed.*, writeback.*, resolved.*, domain.*);
 * learns the global ids of the preloaded users from their UserChanged events.
 */
function onMessage(m: InboundMessage, now: number, clocks: Record<Hop, MarkerClock>, globalIds: Map<number, string>): void {
  const value = JSON.parse(m.value?.toString() ?? 'null') as Record<string, unknown> | null;
  if (!value) return;
  const hop = m.topic.slice(0, m.topic.indexOf('.'));
  if (hop === 'legacy' || hop === 'keyed') {
    const marker = rowMarker(value['after'] as Record<string, unknown> | null);
    if (marker && (marker.startsWith('lg-') || marker.startsWith('o'))) clocks[hop].observe(marker, now);
    return;
  }
  if (hop === 'writeback' || hop === 'resolved') {
    const marker = rowMarker(value['columns'] as Record<string, unknown> | null);
    if (marker?.startsWith('wb-')) clocks[hop].observe(marker, now);
    return;
  }
  const type = m.headers['ce_type'];
  if (type === 'OrderPlaced') {
    clocks.domain.observe(`o${Number(value['total'])}`, now);
    return;
  }
  if (type !== 'UserChanged') return;
  const name = String(value['name']);
  if (name.startsWith('lg-')) clocks.domain.observe(name, now);
  else if (name.startsWith('pre-') && m.headers['ce_subject']) globalIds.set(Number(name.slice(4)), m.headers['ce_subject']);
}

/**
 * The capture asked for on every captured table of the demo pipeline, pipeline file and trigger
 * DDL: `notify: true` (NOTIFY is opt-in since issue 15) or `notify: false` with a short poll.
 */
async function captureSettings(stack: TwoWayStack): Promise<void> {
  const capture = CAPTURE === 'notify' ? 'capture: { mode: trigger, pollIntervalMs: 100, notify: true }' : `capture: { mode: trigger, pollIntervalMs: ${POLL_MS}, notify: false }`;
  const text = readFileSync(stack.pipelineFile, 'utf8').replaceAll('capture: { mode: trigger, pollIntervalMs: 100 }', capture);
  if (!text.includes(capture)) throw new Error('two-way bench: the demo pipeline no longer has the capture line this option rewrites');
  writeFileSync(stack.pipelineFile, text);
  const system = parsePipeline(text, stack.pipelineFile).systems.get(stack.system)!;
  const db = createLegacyDb({ system: stack.system, dialect: 'postgres', url: { reveal: () => stack.legacy.url }, poolSize: 1 }, () => undefined);
  try {
    await applyDdl(db, changelogDdl(system));
  } finally {
    await db.close();
  }
}

function render(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

function latencyTable(results: readonly PhaseResult[]): string {
  const fmt = (n: number): string => (Number.isFinite(n) ? n.toLocaleString('en-US') : '-');
  const rows = [['direction', 'target /s', 'achieved /s', 'changes', 'missing', 'p50 ms', 'p99 ms', 'max ms']];
  for (const r of results) {
    const name = r.direction === 'legacy->domain' ? 'legacy commit -> domain event' : 'domain event (ack) -> legacy row';
    const l = r.latency;
    rows.push([name, fmt(r.targetRate), fmt(r.paced.achievedRate), fmt(r.paced.operations), fmt(l.missing), fmt(l.p50), fmt(l.p99), fmt(l.max)]);
    for (const [kind, k] of Object.entries(r.byKind ?? {})) rows.push([`  ${kind}`, '', '', fmt(k.samples + k.missing), fmt(k.missing), fmt(k.p50), fmt(k.p99), fmt(k.max)]);
    for (const [hop, h] of Object.entries(r.byHop) as Array<[Hop, LatencySummary]>) rows.push([`  ${HOP_LABEL[hop]}`, '', '', '', fmt(h.missing), fmt(h.p50), fmt(h.p99), fmt(h.max)]);
  }
  return render(rows);
}

function memoryTable(memory: ReadonlyMap<string, AppMemory>): string {
  const rows = [['app', 'peak RSS (VmHWM) MiB', 'peak RSS sampled MiB', 'RSS at end MiB']];
  for (const [name, m] of memory) rows.push([name, String(m.hwmMb['end'] ?? NaN), String(m.sampledPeakMb), String(m.rssEndMb)]);
  return render(rows);
}

runMain(main);
