/**
 * The Debezium side of compare.bench.ts: the workload of capture-bench.support.ts through
 * Debezium's PostgreSQL connector (pgoutput) on the Kafka Connect worker that
 * scripts/debezium.sh runs, talking to it over its REST API.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { KafkaConnection, silentLog } from '@sync/kafka';
import {
  BENCH_TABLE_DDL,
  captureResult,
  commitCapacity,
  exec,
  fixedRateLatency,
  insertRows,
  rssSampler,
  vmRssBytes,
  withBenchDatabase,
  type CaptureResult,
  type CaptureWorkload,
  type LatencyResult,
} from './capture-bench.support';
import { repoRoot } from '../lib/script-main';
import { waitUntil } from '../lib/wait';

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) in parentheses; utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

/** poll.interval.ms of the second, tuned latency probe (Debezium's default is 500). */
export const TUNED_POLL_INTERVAL_MS = 10;

/** The few Connect REST calls the benchmarks need (standalone mode serves the same API); also used by capture-cost.bench.ts. */
export class ConnectRest {
  constructor(private readonly baseUrl: string) {}

  async call(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Connect ${method} ${path}: HTTP ${res.status} ${text}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  async taskStates(name: string): Promise<string[]> {
    const status = (await this.call('GET', `/connectors/${name}/status`)) as { connector: { state: string }; tasks: Array<{ state: string; trace?: string }> };
    const failed = status.tasks.find((t) => t.state === 'FAILED');
    if (status.connector.state === 'FAILED' || failed) throw new Error(`Debezium connector ${name} failed: ${failed?.trace ?? status.connector.state}`);
    return status.tasks.map((t) => t.state);
  }

  async waitForState(name: string, state: 'RUNNING' | 'PAUSED'): Promise<void> {
    await waitUntil(`connector ${name} ${state}`, async () => {
      const states = await this.taskStates(name);
      return states.length > 0 && states.every((s) => s === state);
    }, 60_000, 100);
  }
}

export async function dropSlot(url: string, slot: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    // The connector's walsender lets go of the slot shortly after the task stops.
    await waitUntil(`slot ${slot} released`, async () => {
      const r = await c.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      return r.rows.length === 0 || !r.rows[0]!.active;
    }, 15_000, 100).catch(async () => {
      await c.query('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active', [slot]);
    });
    await waitUntil(`slot ${slot} dropped`, async () => {
      const r = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      if (r.rows[0]!.n === 0) return true;
      await c.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]);
      return false;
    }, 15_000, 200);
  } finally {
    await c.end();
  }
}

/**
 * On `baseUrl`'s cluster (wal_level=logical): the insert into a published table (slot present,
 * connector paused) and into an unpublished one, then capture throughput of that backlog from
 * resume until the topic's high watermark holds every row, then the fixed-rate latency probe
 * (default settings, then poll.interval.ms lowered), then the single-row commit capacity.
 */
export async function runDebeziumCapture(opts: {
  readonly baseUrl: string;
  readonly brokers: string[];
  readonly connectUrl: string;
  readonly connectPid: number;
  readonly workload: CaptureWorkload;
}): Promise<CaptureResult & { readonly tunedLatency: LatencyResult }> {
  const N = opts.workload.rows;
  const rest = new ConnectRest(opts.connectUrl);
  return withBenchDatabase(opts.baseUrl, 'bench_dbz', async (url) => {
    const dbName = new URL(url).pathname.slice(1);
    const name = dbName;
    const slot = dbName;
    const topic = `${name}.public.rows`;
    const kafka = new KafkaConnection({ brokers: opts.brokers, clientId: 'bench-debezium' }, silentLog);
    const producer = kafka.producer();
    const admin = kafka.admin();
    const rss = rssSampler(() => vmRssBytes(opts.connectPid));
    let created = false;
    try {
      await exec(url, `CREATE TABLE plain ${BENCH_TABLE_DDL}; CREATE TABLE rows ${BENCH_TABLE_DDL}`);
      await producer.connect();
      await admin.ensureTopics([{ topic }]);
      const u = new URL(url);
      const config: Record<string, string> = {
        'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
        'tasks.max': '1',
        'plugin.name': 'pgoutput',
        'database.hostname': u.hostname,
        'database.port': u.port,
        'database.user': 'postgres',
        // trust auth: the connector still requires the property
        'database.password': 'unused',
        'database.dbname': dbName,
        'topic.prefix': name,
        'table.include.list': 'public.rows',
        'slot.name': slot,
        'publication.name': `${name}_pub`,
        'publication.autocreate.mode': 'filtered',
        'snapshot.mode': 'no_data',
        // numeric as a string, as our events carry it, instead of base64 bytes
        'decimal.handling.mode': 'string',
      };
      await rest.call('PUT', `/connectors/${name}/config`, config);
      created = true;
      await rest.waitForState(name, 'RUNNING');
      // RUNNING comes before the replication stream is open: wait for a first row to arrive.
      await exec(url, `INSERT INTO rows (id, name, amount) VALUES (0, 'warm-up', 0)`);
      await waitUntil('Debezium streaming', async () => (await admin.messageCount(topic)) >= 1, 120_000, 100);

      // Write cost with only logical decoding: a published table with the slot present vs an
      // unpublished one; the connector is paused so the backlog is there for the throughput run.
      await rest.call('PUT', `/connectors/${name}/pause`);
      await rest.waitForState(name, 'PAUSED');
      const plainMs = await insertRows(url, 'plain', N);
      const capturedMs = await insertRows(url, 'rows', N);

      const t0 = performance.now();
      await rest.call('PUT', `/connectors/${name}/resume`);
      await waitUntil(`${N} Debezium records`, async () => (await admin.messageCount(topic)) >= N + 1, 600_000, 20);
      const captureMs = performance.now() - t0;

      const latency = await fixedRateLatency({ kafka, dlqProducer: producer, url, table: 'rows', topic, firstId: N + 1, workload: opts.workload });

      // Debezium's queue hands a batch to Connect only when max.batch.size (2,048) rows are
      // waiting or poll.interval.ms (500) has passed: at a steady 1,000 rows/s the default
      // interval dominates latency. Probe again with it lowered, as a tuned deployment would.
      const probed = N + 1 + opts.workload.rate * opts.workload.seconds;
      await rest.call('PUT', `/connectors/${name}/config`, { ...config, 'poll.interval.ms': String(TUNED_POLL_INTERVAL_MS) });
      await rest.waitForState(name, 'RUNNING');
      const before = await admin.messageCount(topic);
      await exec(url, `INSERT INTO rows (id, name, amount) VALUES ($1, 'warm-up', 0)`, [probed]);
      await waitUntil('Debezium streaming after reconfiguration', async () => (await admin.messageCount(topic)) > before, 120_000, 100);
      const tunedLatency = await fixedRateLatency({ kafka, dlqProducer: producer, url, table: 'rows', topic, firstId: probed + 1, workload: opts.workload });

      // Small-transaction write capacity with the connector streaming (as ours runs with capture on).
      const capacity = await commitCapacity(url, ['plain', 'rows'], opts.workload.writers);
      const commits = { uncaptured: capacity['plain']!, captured: capacity['rows']! };
      // Peak VmRSS of the Connect worker JVM while the connector ran.
      return {
        ...captureResult(N, { uncapturedInsert: plainMs, capturedInsert: capturedMs, capture: captureMs }, latency, commits, rss.peakMb()),
        tunedLatency,
      };
    } finally {
      rss.stop();
      if (created) await rest.call('DELETE', `/connectors/${name}`).catch((err: unknown) => console.error(err));
      await dropSlot(url, slot).catch((err: unknown) => console.error(err));
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  });
}

/** One Debezium initial snapshot of an existing table (snapshotDebezium). */
export interface DebeziumSnapshotRun {
  readonly rows: number;
  /** From creating the connector until the topic's high watermark holds every row. */
  readonly ms: number;
  /** CPU seconds of the Connect worker JVM over that time. */
  readonly cpuS: number;
  /** Peak VmRSS of the Connect worker JVM while the snapshot ran. */
  readonly peakRssMb: number;
  readonly topic: string;
}

/**
 * Debezium's initial snapshot (`snapshot.mode=initial`, its default settings otherwise, numeric as
 * strings as our events carry it) of `table` in `url`'s database (wal_level=logical), which holds
 * `rows` rows: a new connector, slot and topic prefix each time; timed from the connector's
 * creation until the topic's high watermark (acknowledged records) reaches `rows`. The connector
 * and its slot are removed afterwards.
 */
export async function snapshotDebezium(opts: {
  readonly url: string;
  readonly brokers: string[];
  readonly connectUrl: string;
  readonly connectPid: number;
  readonly table: string;
  readonly rows: number;
}): Promise<DebeziumSnapshotRun> {
  const rest = new ConnectRest(opts.connectUrl);
  const u = new URL(opts.url);
  const name = `snap_${Date.now().toString(36)}`;
  const topic = `${name}.public.${opts.table}`;
  const kafka = new KafkaConnection({ brokers: opts.brokers, clientId: 'bench-debezium-snapshot' }, silentLog);
  const admin = kafka.admin();
  let created = false;
  try {
    await admin.ensureTopics([{ topic }]);
    const config: Record<string, string> = {
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'tasks.max': '1',
      'plugin.name': 'pgoutput',
      'database.hostname': u.hostname,
      'database.port': u.port,
      'database.user': 'postgres',
      'database.password': 'unused',
      'database.dbname': u.pathname.slice(1),
      'topic.prefix': name,
      'table.include.list': `public.${opts.table}`,
      'slot.name': name,
      'publication.name': `${name}_pub`,
      'publication.autocreate.mode': 'filtered',
      'snapshot.mode': 'initial',
      'decimal.handling.mode': 'string',
    };
    const cpu0 = processCpuSeconds(opts.connectPid);
    const rss = rssSampler(() => vmRssBytes(opts.connectPid));
    const t0 = performance.now();
    try {
      await rest.call('PUT', `/connectors/${name}/config`, config);
      created = true;
      let polls = 0;
      await waitUntil(`${opts.rows} Debezium snapshot records`, async () => {
        // A failed task would never fill the topic: ask Connect now and then (it costs the worker CPU).
        if (polls++ % 40 === 0) await rest.taskStates(name);
        return (await admin.messageCount(topic)) >= opts.rows;
      }, 1_800_000, 50);
    } finally {
      rss.stop();
    }
    const ms = performance.now() - t0;
    return { rows: opts.rows, ms, cpuS: processCpuSeconds(opts.connectPid) - cpu0, peakRssMb: rss.peakMb(), topic };
  } finally {
    if (created) await rest.call('DELETE', `/connectors/${name}`).catch((err: unknown) => console.error(err));
    await dropSlot(opts.url, name).catch((err: unknown) => console.error(err));
    await exec(opts.url, `DROP PUBLICATION IF EXISTS ${name}_pub`).catch((err: unknown) => console.error(err));
    await admin.disconnect().catch(() => undefined);
  }
}

/** Runs `scripts/debezium.sh up|down|status` (status quietly); true when it exited 0. */
export function debeziumScript(cmd: 'up' | 'down' | 'status'): boolean {
  return spawnSync('bash', [path.join(repoRoot, 'scripts', 'debezium.sh'), cmd], { stdio: ['ignore', cmd === 'status' ? 'ignore' : 'inherit', 'inherit'] }).status === 0;
}
