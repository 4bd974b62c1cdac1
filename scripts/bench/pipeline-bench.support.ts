/**
 * Pure parts of the whole-path benchmark (pipeline.bench.ts): its options, the pipeline it runs,
 * progress timelines and the rates read from them, CPU time from /proc, and the printed table.
 */
import { readFileSync } from 'node:fs';

export const PIPELINE_BENCH_USAGE = `Usage: npm run bench:pipeline [-- ROWS] [--partitions 2] [--timeout-s S] [--cpu-prof APP[,APP]] [--app-env NAME=VALUE]... [--debezium] [--keep]

Loads ROWS rows (default 100000) into a fresh legacy table on the shared PostgreSQL (int key,
three short texts, numeric, timestamptz, boolean), starts legacy-import, id-translation,
domain-transform and the example new service as processes on their own topics and consumer
groups (broker KAFKA_BROKERS, default 127.0.0.1:19092), and measures, in one run: the snapshot's
rows/s, each stage's sustained rows/s (10% to 90% of its output), the time until the last domain
event is on its topic and until the new service wrote every row, and each app's CPU-seconds and
peak RSS. Prints a table; writes bench-results/pipeline-<ROWS>.json.

  --partitions N    partitions of the pipeline's topics (kafka.topics.partitions; default 2)
  --timeout-s S     deadline of the whole run (default: max(300, ROWS / 400)); on expiry what was
                    measured so far is printed and the run fails
  --cpu-prof APPS   run these apps (legacy-import, id-translation, domain-transform, new-service)
                    with node --cpu-prof; profiles in bench-results/profiles/ (summarise with
                    node dist/scripts/bench/cpu-profile-top.js FILE)
  --app-env NAME=VALUE
                    one more environment variable for every app (repeatable), e.g.
                    --app-env NODE_OPTIONS=--max-old-space-size=128 --app-env MALLOC_ARENA_MAX=2
  --debezium        after the run, Debezium's initial snapshot of the same rows (scripts/debezium.sh:
                    logical cluster on 55432, Connect on 18083) and the ratio of the snapshot rates
  --keep            leave the databases and topics in place (default: dropped)
Everything it starts is stopped by pid at the end, or when the deadline passes.`;

export const BENCH_APPS = ['legacy-import', 'id-translation', 'domain-transform', 'new-service'] as const;
export type BenchApp = (typeof BENCH_APPS)[number];

export interface PipelineBenchOptions {
  readonly rows: number;
  readonly partitions: number;
  readonly timeoutS: number;
  readonly cpuProf: readonly BenchApp[];
  /** Extra environment of every app (--app-env), over the bench's own. */
  readonly appEnv: Readonly<Record<string, string>>;
  readonly debezium: boolean;
  readonly keep: boolean;
}

/** The command line, validated; throws with the usage on anything it does not understand. */
export function parsePipelineBenchArgs(argv: readonly string[]): PipelineBenchOptions | 'help' {
  let rows = 100_000;
  let partitions = 2;
  let timeoutS: number | undefined;
  let cpuProf: BenchApp[] = [];
  let debezium = false;
  let keep = false;
  const appEnv: Record<string, string> = {};
  const fail = (why: string): never => {
    throw new Error(`bench:pipeline: ${why}\n\n${PIPELINE_BENCH_USAGE}`);
  };
  const int = (name: string, raw: string | undefined, min: number, max: number): number => {
    const n = Number(raw);
    if (raw === undefined || !Number.isInteger(n) || n < min || n > max) return fail(`${name} must be an integer from ${min} to ${max}, got '${raw ?? ''}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case '-h':
      case '--help':
        return 'help';
      case '--partitions':
        partitions = int('--partitions', argv[++i], 1, 64);
        break;
      case '--timeout-s':
        timeoutS = int('--timeout-s', argv[++i], 10, 86_400);
        break;
      case '--cpu-prof':
        cpuProf = (argv[++i] ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '') as BenchApp[];
        for (const a of cpuProf) if (!BENCH_APPS.includes(a)) fail(`--cpu-prof: unknown app '${a}' (one of ${BENCH_APPS.join(', ')})`);
        if (cpuProf.length === 0) fail('--cpu-prof needs at least one app');
        break;
      case '--app-env': {
        const pair = argv[++i] ?? '';
        const eq = pair.indexOf('=');
        if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(pair.slice(0, eq))) fail(`--app-env needs NAME=VALUE, got '${pair}'`);
        appEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
        break;
      }
      case '--debezium':
        debezium = true;
        break;
      case '--keep':
        keep = true;
        break;
      default:
        if (arg.startsWith('-')) fail(`unknown option '${arg}'`);
        rows = int('ROWS', arg.replaceAll('_', ''), 1, 50_000_000);
    }
  }
  return { rows, partitions, timeoutS: timeoutS ?? Math.max(300, Math.ceil(rows / 400)), cpuProf, appEnv, debezium, keep };
}

export interface BenchNames {
  readonly system: string;
  /** The aggregate whose OrderPlaced events the table becomes; the new service keeps them in `orders`. */
  readonly orderAggregate: string;
  /** The new service's user aggregate (it consumes it too; the bench writes nothing to it). */
  readonly userAggregate: string;
  readonly prefix: string;
  readonly partitions: number;
}

/** The legacy table: int key, three short texts, numeric, timestamptz, boolean. */
export const BENCH_TABLE = 'items';
export const BENCH_TABLE_SQL = `CREATE TABLE ${BENCH_TABLE} (
  id int PRIMARY KEY,
  code text NOT NULL,
  label text,
  category text,
  amount numeric(12, 2),
  changed_at timestamptz NOT NULL,
  active boolean NOT NULL
)`;

/** N rows in one set-based statement (no triggers yet: the snapshot reads them, not the changelog). */
export const BENCH_LOAD_SQL = `INSERT INTO ${BENCH_TABLE} (id, code, label, category, amount, changed_at, active)
SELECT g, 'C' || lpad(g::text, 8, '0'), 'item ' || g, (ARRAY['red', 'green', 'blue', 'grey'])[1 + g % 4], (g % 100000) * 1.25,
       timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second', g % 3 <> 0
FROM generate_series(1, $1::int) g`;

/** One row becomes one OrderPlaced event: three mapped fields, validated by a JSON Schema. */
export function pipelineBenchYaml(n: BenchNames): string {
  return `version: 1
kafka:
  clientId: ${n.prefix}
  topics:
    partitions: ${n.partitions}
idTranslation:
  groupPrefix: ${n.prefix}_idt
domainTransform:
  groupPrefix: ${n.prefix}_dt
systems:
  ${n.system}:
    dialect: postgres
    connection:
      url: { env: BENCH_LEGACY_DATABASE_URL }
    tables:
      - name: ${BENCH_TABLE}
        key: [id]
        capture: { mode: trigger, pollIntervalMs: 200, notify: false }
mappings:
  ${BENCH_TABLE}:
    source: { system: ${n.system}, table: ${BENCH_TABLE} }
    aggregate: ${n.orderAggregate}
    events:
      - type: OrderPlaced
        on: [c, u, r]
        fields:
          userId: code
          total: { expr: amount, type: string }
          placedAt: { expr: changed_at, type: date }
        schema:
          type: object
          required: [userId]
          properties:
            userId: { type: string }
            total: { type: [string, "null"] }
            placedAt: { type: [string, "null"] }
          additionalProperties: false
`;
}

/** A count sampled over time (messages on a topic, rows written), in ms since the run started. */
export class Timeline {
  private readonly points: Array<[number, number]> = [];

  add(atMs: number, count: number): void {
    const last = this.points[this.points.length - 1];
    if (last !== undefined && last[1] === count) return;
    this.points.push([atMs, count]);
  }

  last(): number {
    return this.points[this.points.length - 1]?.[1] ?? 0;
  }

  /** When the count first reached `count` (undefined: not yet). */
  reached(count: number): number | undefined {
    return this.points.find(([, c]) => c >= count)?.[0];
  }

  /** When the count first moved above zero. */
  started(): number | undefined {
    return this.points.find(([, c]) => c > 0)?.[0];
  }

  /**
   * Rows per second between 10% and 90% of `total`: the stage's pace once it runs, without its
   * start-up and its tail. Undefined until 90% is reached or when the span is below the sampling.
   */
  sustainedRate(total: number): number | undefined {
    const from = this.reached(Math.ceil(total * 0.1));
    const to = this.reached(Math.ceil(total * 0.9));
    if (from === undefined || to === undefined || to <= from) return undefined;
    const rows = (this.points.find(([t]) => t === to)![1] - this.points.find(([t]) => t === from)![1]);
    return rows / ((to - from) / 1000);
  }

  toJSON(): Array<[number, number]> {
    return this.points;
  }
}

/** utime + stime of a process in seconds, from the text of /proc/<pid>/stat. */
export function cpuSecondsFromStat(stat: string, ticksPerSecond = 100): number {
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

export function processCpuSeconds(pid: number): number {
  return cpuSecondsFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** Busy CPU-seconds of the whole machine so far (every process, other users' included), from /proc/stat. */
export function machineBusySeconds(stat = readFileSync('/proc/stat', 'utf8'), ticksPerSecond = 100): number {
  const cpu = stat.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return (cpu.reduce((a, b) => a + b, 0) - idle) / ticksPerSecond;
}

/** A markdown table, first column left-aligned, the others right-aligned. */
export function renderTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

export function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || !Number.isFinite(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** What an app's memory was made of, in MiB, from prom-client's default gauges on its /metrics. */
export interface MemoryBreakdown {
  readonly rss: number;
  /** V8 heap reserved (every space) and in use. */
  readonly heapTotal: number;
  readonly heapUsed: number;
  /** The young generation (semi-spaces) and the old generation, reserved. */
  readonly newSpace: number;
  readonly oldSpace: number;
  /** Buffers and other memory held outside the heap for JS objects. */
  readonly external: number;
  /** The rest of the RSS: native allocations (malloc arenas), code, stacks, the binary. */
  readonly other: number;
}

/** The breakdown read off a /metrics text; undefined without the process and heap gauges. */
export function memoryBreakdown(metrics: string): MemoryBreakdown | undefined {
  const mib = (name: string, space?: string): number | undefined => {
    for (const line of metrics.split('\n')) {
      if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
      if (space !== undefined && !line.includes(`space="${space}"`)) continue;
      const v = Number(line.slice(line.lastIndexOf(' ') + 1));
      return Number.isFinite(v) ? v / 1048576 : undefined;
    }
    return undefined;
  };
  const rss = mib('process_resident_memory_bytes');
  const heapTotal = mib('nodejs_heap_size_total_bytes');
  const external = mib('nodejs_external_memory_bytes');
  if (rss === undefined || heapTotal === undefined || external === undefined) return undefined;
  return {
    rss,
    heapTotal,
    heapUsed: mib('nodejs_heap_size_used_bytes') ?? 0,
    newSpace: mib('nodejs_heap_space_size_total_bytes', 'new') ?? 0,
    oldSpace: mib('nodejs_heap_space_size_total_bytes', 'old') ?? 0,
    external,
    other: Math.max(0, rss - heapTotal - external),
  };
}
