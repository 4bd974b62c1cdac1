/**
 * Rows/s and peak RSS of `sync-ctl verify` (npm run bench:verify [rows] [runs]). Workload, on
 * fresh databases: a legacy `users` table of N rows (the demo schema), the key map holding every
 * row's global id (as id-translation leaves it after the initial load) and the sample new
 * service's `users` + `addresses` tables holding the same rows by global id: both sides agree.
 * Then `sync-ctl verify users --json` runs R times as its own process under /usr/bin/time -v
 * (wall clock, peak RSS, CPU seconds of the command); with the sides agreeing the command must exit 0. N defaults to
 * 100,000, R to 3. SYNC_CTL=<path to main.js> measures another build (e.g. main's, for a
 * before/after). VERIFY_ARGS adds options (e.g. "--chunk-size 5000"); NODE_ARGS are node's own options
 * (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" for a profile of the command). Writes
 * bench-results/verify.json. BENCH_KEEP=1 keeps the databases (and prints how to reach them). The machine's load average is printed: on a shared machine it moves
 * every figure.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { canonicalKey, connectKeymap, createKeymapDataSource, legacyGlobalId } from '@sync/keymap';
import { SERVICE_SCHEMA_SQL } from '../../examples/new-service/src/service-schema';
import { LegacyDatabase } from '../../test/support/legacy-database';
import { repoRoot } from '../../test/support/test-env';
import { LEGACY_SCHEMA_SQL, twoWayPipelineYaml, twoWayVerifyYaml } from '../../test/support/two-way-stack';

const run = promisify(execFile);
const N = Number(process.argv[2] ?? 100_000);
const R = Number(process.argv[3] ?? 3);
const SYNC_CTL = process.env['SYNC_CTL'] ?? path.join(repoRoot, 'dist', 'apps', 'sync-ctl', 'src', 'main.js');
const EXTRA = (process.env['VERIFY_ARGS'] ?? '').split(/\s+/).filter((a) => a !== '');
const NODE_ARGS = (process.env['NODE_ARGS'] ?? '').split(/\s+/).filter((a) => a !== '');
const BATCH = 20_000;
const load = (): string => os.loadavg()[0]!.toFixed(1);

async function main(): Promise<void> {
  if (!Number.isInteger(N) || N < 1 || !Number.isInteger(R) || R < 1) throw new Error('usage: verify.bench [rows >= 1] [runs >= 1]');
  const system = `h_verify_bench_${Date.now().toString(36)}`;
  const legacy = await LegacyDatabase.create('h_verify_legacy');
  const keymapDb = await LegacyDatabase.create('h_verify_keymap');
  const service = await LegacyDatabase.create('h_verify_service');
  const pipelineFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'h-verify-bench-')), 'pipeline.yaml');
  try {
    const t0 = Date.now();
    await legacy.exec(LEGACY_SCHEMA_SQL);
    await legacy.exec(
      `INSERT INTO users (id, name, email, street, city, zip, updated_at)
       SELECT g, 'user ' || g, 'u' || g || '@example.org', g || ' Main St', 'City ' || (g % 50), lpad((g % 100000)::text, 5, '0'), timestamptz '2026-01-01' + g * interval '1 second'
         FROM generate_series(1, ${N}) g`,
    );
    await legacy.exec('ANALYZE users');
    const keymap = createKeymapDataSource(keymapDb.url, { poolSize: 2 });
    await connectKeymap(keymap);
    await service.exec(SERVICE_SCHEMA_SQL);
    const client = await service.connect();
    try {
      for (let from = 1; from <= N; from += BATCH) {
        const ids: number[] = [];
        for (let i = from; i < Math.min(N + 1, from + BATCH); i++) ids.push(i);
        const gids = ids.map((i) => legacyGlobalId(system, 'public.users', canonicalKey(['id'], { id: i })!));
        await keymap.query(
          `INSERT INTO keymap_entry (system, table_ref, local_key, key_values, global_id, origin)
           SELECT $1, 'public.users', '["' || i || '"]', jsonb_build_object('id', i), g, 'legacy' FROM unnest($2::int[], $3::text[]) AS u(i, g)`,
          [system, ids, gids],
        );
        await client.query(`INSERT INTO users (id, name, email) SELECT g, 'user ' || i, 'u' || i || '@example.org' FROM unnest($1::int[], $2::text[]) AS u(i, g)`, [ids, gids]);
        await client.query(
          `INSERT INTO addresses (user_id, street, city, zip) SELECT g, i || ' Main St', 'City ' || (i % 50), lpad((i % 100000)::text, 5, '0') FROM unnest($1::int[], $2::text[]) AS u(i, g)`,
          [ids, gids],
        );
      }
      await client.query('ANALYZE users; ANALYZE addresses');
    } finally {
      await client.end();
    }
    await keymap.query('ANALYZE keymap_entry');
    await keymap.destroy();
    console.log(`loaded ${N} rows on both sides and in the key map in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    writeFileSync(pipelineFile, twoWayPipelineYaml({ system, userAggregate: `${system}_user`, orderAggregate: `${system}_order`, groupPrefix: system, verify: twoWayVerifyYaml(system) }));
    const env = { PATH: process.env['PATH'] ?? '', PIPELINE_FILE: pipelineFile, KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092', CRM_DATABASE_URL: legacy.url, KEYMAP_DATABASE_URL: keymapDb.url, SERVICE_DATABASE_URL: service.url };
    console.log(`sync-ctl verify users --json ${EXTRA.join(' ')} (${SYNC_CTL}), ${N} rows, ${R} run(s), ${os.cpus().length} cores, load ${load()}`);
    const runs: Array<{ seconds: number; rows_per_s: number; peak_rss_mib: number; cpu_s: number; load: number }> = [];
    for (let r = 0; r < R; r++) {
      const started = process.hrtime.bigint();
      const res = await run('/usr/bin/time', ['-v', process.execPath, ...NODE_ARGS, SYNC_CTL, 'verify', 'users', '--json', ...EXTRA], { env, maxBuffer: 64 * 1024 * 1024, timeout: 30 * 60_000 }).catch((err: unknown) => {
        const e = err as { code?: number; stderr?: string };
        throw new Error(`sync-ctl verify exited ${e.code}: ${e.stderr?.slice(-2000)}`);
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const report = JSON.parse(res.stdout) as { agree: boolean; legacyRows: number };
      if (!report.agree || report.legacyRows !== N) throw new Error(`unexpected report: ${res.stdout.slice(0, 500)}`);
      const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(res.stderr)?.[1] ?? NaN);
      const cpu = ['User', 'System'].reduce((sum, kind) => sum + Number(new RegExp(`${kind} time \\(seconds\\): ([\\d.]+)`).exec(res.stderr)?.[1] ?? NaN), 0);
      const row = { seconds: Number(seconds.toFixed(2)), rows_per_s: Math.round(N / seconds), peak_rss_mib: Math.round(rssKb / 1024), cpu_s: Number(cpu.toFixed(1)), load: Number(load()) };
      runs.push(row);
      console.log(`run ${r + 1}: ${N} rows in ${row.seconds.toFixed(2)} s = ${row.rows_per_s.toLocaleString('en-US').padStart(7)} rows/s, peak RSS ${row.peak_rss_mib} MiB, ${row.cpu_s} s CPU of sync-ctl (load ${load()})`);
    }
    const rates = runs.map((x) => x.rows_per_s);
    console.log(`rows/s min ${Math.min(...rates).toLocaleString('en-US')} max ${Math.max(...rates).toLocaleString('en-US')}; peak RSS max ${Math.max(...runs.map((x) => x.peak_rss_mib))} MiB`);
    const out = path.join(repoRoot, 'bench-results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'verify.json'), JSON.stringify({ at: new Date().toISOString(), rows: N, args: EXTRA, sync_ctl: SYNC_CTL, runs }, null, 2));
  } finally {
    if (process.env['BENCH_KEEP'] === '1') console.log(`kept (drop them yourself): CRM_DATABASE_URL=${legacy.url} KEYMAP_DATABASE_URL=${keymapDb.url} SERVICE_DATABASE_URL=${service.url} PIPELINE_FILE=${pipelineFile}`);
    else {
      await legacy.drop();
      await keymapDb.drop();
      await service.drop();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
