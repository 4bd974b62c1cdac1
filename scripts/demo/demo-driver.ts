import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { sleep } from '../lib/wait';

// The demo's legacy application and progress display: makes legacy changes for a while, shows
// per entity and direction what was seen, applied and how far behind (from every app's /metrics),
// then waits until the pipeline has drained. scripts/demo.sh runs it, then `sync-ctl verify`.

const { values } = parseArgs({
  options: {
    'legacy-url': { type: 'string' },
    system: { type: 'string' },
    seconds: { type: 'string', default: '60' },
    'service-port': { type: 'string', default: '8090' },
    'drain-seconds': { type: 'string', default: '90' },
  },
});
const PORTS = { 'legacy-import': 8081, 'id-translation': 8082, 'domain-transform': 8083, 'legacy-writeback': 8084, service: Number(values['service-port']) };
const system = values.system!;

type Samples = Array<{ name: string; labels: Record<string, string>; value: number }>;

async function scrape(port: number): Promise<Samples> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
    const out: Samples = [];
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ([-+\d.eE]+|NaN)$/.exec(line);
      if (!m) continue;
      const labels: Record<string, string> = {};
      for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
      out.push({ name: m[1]!, labels, value: Number(m[3]) });
    }
    return out;
  } catch {
    return [];
  }
}

function sum(samples: Samples, name: string, match: (labels: Record<string, string>) => boolean = () => true): number {
  return samples.filter((s) => s.name === name && match(s.labels)).reduce((a, s) => a + s.value, 0);
}

function max(samples: Samples, name: string, match: (labels: Record<string, string>) => boolean = () => true): number {
  return samples.filter((s) => s.name === name && match(s.labels)).reduce((a, s) => Math.max(a, s.value), 0);
}

interface Progress {
  rows: string[][];
  drained: boolean;
}

async function progress(): Promise<Progress> {
  const [imp, idt, dt, wb, svc] = await Promise.all([PORTS['legacy-import'], PORTS['id-translation'], PORTS['domain-transform'], PORTS['legacy-writeback'], PORTS.service].map(scrape));
  const users = `${system}.public.users`;
  const orders = `${system}.public.orders`;
  const capture = (entity: string): number => sum(imp!, 'sync_capture_rows_total', (l) => l['entity'] === entity);
  const lag = (entity: string): number => max(imp!, 'sync_capture_lag_seconds', (l) => l['entity'] === entity);
  const events = (prefix: string): number => sum(dt!, 'sync_transform_outputs_total', (l) => l['direction'] === 'legacy-to-new' && (l['rule'] ?? '').startsWith(prefix));
  const applied = (...types: string[]): number => sum(svc!, 'service_events_applied_total', (l) => types.includes(l['type'] ?? ''));
  const serviceLag = max(svc!, 'service_event_lag_seconds');
  const published = sum(svc!, 'service_events_published_total');
  const requests = sum(dt!, 'sync_transform_outputs_total', (l) => l['direction'] === 'new-to-legacy');
  const written = sum(wb!, 'sync_writeback_rows_applied_total', (l) => l['entity'] === users);
  const parked = sum(idt!, 'sync_idtrans_parked_commands');
  const backlog = sum(imp!, 'sync_capture_backlog_rows');
  const userEvents = events('users.');
  const orderEvents = events('orders.');
  const appliedUsers = applied('UserChanged', 'AddressChanged');
  const appliedOrders = applied('OrderPlaced');
  const s = (n: number): string => String(Math.round(n));
  const secs = (n: number): string => `${n.toFixed(1)} s`;
  return {
    rows: [
      ['legacy → new', users, `${s(capture(users))} rows`, `${s(userEvents)} events`, `${s(appliedUsers)} applied`, secs(Math.max(lag(users), serviceLag))],
      ['legacy → new', orders, `${s(capture(orders))} rows`, `${s(orderEvents)} events`, `${s(appliedOrders)} applied`, secs(lag(orders))],
      ['new → legacy', users, `${s(published)} events`, `${s(requests)} requests`, `${s(written)} applied`, `${s(parked)} parked`],
    ],
    drained: backlog === 0 && parked === 0 && appliedUsers >= userEvents && appliedOrders >= orderEvents && written >= requests && requests >= published,
  };
}

function table(rows: string[][]): string {
  const headers = ['direction', 'entity', 'seen', 'mapped', 'applied', 'lag / parked'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(headers), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const db = new Client({ connectionString: values['legacy-url'] });
  await db.connect();
  // The legacy application edits only legacy-born users (ids it knows), the new service only its
  // own: the demo makes no concurrent edits of one row (those are resolved by the conflict policy).
  const known = (await db.query<{ id: number }>(`SELECT id FROM users WHERE id <= 200 ORDER BY id`)).rows.map((r) => r.id);
  const pick = (): number => known[Math.floor(Math.random() * known.length)]!;
  const cities = ['Springfield', 'Shelbyville', 'Ogdenville', 'Brockway', 'Cypress Creek'];
  const until = Date.now() + Number(values.seconds) * 1000;
  let changes = 0;
  const started = Date.now();
  let nextShow = 0;
  process.stdout.write(`Driving legacy changes for ${values.seconds} s (the new service makes its own meanwhile)...\n`);
  while (Date.now() < until) {
    const r = Math.random();
    if (r < 0.25) {
      const n = known.length + 1;
      const res = await db.query<{ id: number }>(`INSERT INTO users (name, email, street, city, zip) VALUES ($1, $2, $3, $4, $5) RETURNING id`, [`Walk-in ${n}`, `walkin${n}@example.org`, `${n} Counter St`, cities[n % cities.length], String(20000 + n)]);
      known.push(res.rows[0]!.id);
    } else if (r < 0.55) {
      await db.query(`UPDATE users SET city = $2, zip = $3, updated_at = now() WHERE id = $1`, [pick(), cities[Math.floor(Math.random() * cities.length)], String(30000 + Math.floor(Math.random() * 999))]);
    } else if (r < 0.7) {
      await db.query(`UPDATE users SET name = name || '.', updated_at = now() WHERE id = $1`, [pick()]);
    } else if (r < 0.9) {
      await db.query(`INSERT INTO orders (user_id, total) VALUES ($1, $2)`, [pick(), (Math.random() * 500).toFixed(2)]);
    } else {
      // A legacy edit that maps to nothing: no event must come out of it.
      await db.query(`UPDATE users SET updated_at = now() WHERE id = $1`, [pick()]);
    }
    changes++;
    if (Date.now() >= nextShow) {
      const p = await progress();
      process.stdout.write(`\n[${Math.round((Date.now() - started) / 1000)} s] ${changes} legacy changes made\n${table(p.rows)}\n`);
      nextShow = Date.now() + 5000;
    }
    await sleep(100 + Math.random() * 150);
  }
  await db.end();
  process.stdout.write(`\nDone driving (${changes} legacy changes). Waiting for the pipeline to drain...\n`);
  const deadline = Date.now() + Number(values['drain-seconds']) * 1000;
  let stable = 0;
  let last = '';
  for (;;) {
    const p = await progress();
    const now = JSON.stringify(p.rows);
    stable = p.drained && now === last ? stable + 1 : 0;
    last = now;
    if (stable >= 2) {
      process.stdout.write(`${table(p.rows)}\nDrained.\n`);
      return;
    }
    if (Date.now() > deadline) {
      process.stdout.write(`${table(p.rows)}\nNot drained after ${values['drain-seconds']} s; verifying anyway.\n`);
      return;
    }
    await sleep(1500);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo driver: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
