import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { resolveLegacyDbOptions, resolveSecret } from '@sync/config';
import { Topics } from '@sync/contracts';
import { statusKey, type VerifySummary } from '@sync/control';
import { TableIndex } from '@sync/keymap';
import { createCaptureSource, createLegacyDb, describeTable, type TableDescription } from '@sync/legacy-db';
import { DebeziumEnvelopeEncoder } from '@sync/contracts';
import { loadMappings, MappingEngine } from '@sync/mapping';
import { appMappers } from '@sync/custom-mappers';
import { EXIT, UsageError, type Command, type CommandIo } from '../command';
import { KeymapLookupRepository } from '../verify/keymap-lookup.repository';
import { LegacySideReader } from '../verify/legacy-side.reader';
import { NewSideRepository } from '../verify/new-side.repository';
import { loadVerifyConfig, selectEntity, type VerifyEntity } from '../verify/verify-config';
import { debeziumRepairEncoding, nativeRepairEncoding, repairRecords, type RepairEncoding, type RepairPlan } from '../verify/verify-repair';
import { VerifyInputError, VerifyService, type VerifyOptions, type VerifyReport, type VerifySelection } from '../verify/verify.service';
import { commandProgress } from '../progress';
import { closeWithin, legacyDbAddress, reach, urlAddress } from '../dependency';
import { withKafka } from './kafka-session';
import { loadPipeline, parseOptions } from './pipeline-args';

const HELP = `Usage: sync-ctl verify <entity>... | --all [--json] [--repair] [--rechecks N] [--recheck-delay-ms MS]
                       [--chunk-size N] [--sample F|N% |N] [--sample-seed S] [--since T] [--since-column COL]
                       [--progress] [--pipeline FILE] [--new-side-url URL] [--keymap-url URL]

Proves that a legacy table and the new side agree (docs/verify.md). The new side and the compared
columns are declared in the pipeline file's verify section. The legacy table is read once, in key
order, a chunk at a time: each row is named by its global id (through id-translation's key map)
and mapped with the entity's forward mapping, the new side's rows of the chunk are read by global
id, and both are compared row by row. New-side rows no legacy row named are then looked for by
id (only when the new side has more rows than were matched). Differences are re-checked after a
delay (changes in flight settle) and reported only if they persist. Memory: one chunk, 8 bytes per
legacy row, and the differences.

<entity> is a name of verify.entities (e.g. users) or <system>.<schema>.<table>.

Options:
  --all                 every entity of the verify section
  --json                print the report as JSON
  --repair              re-emit the differing legacy rows into legacy.<system>.<schema>.<table> as
                        snapshot reads (op "r"; deletes for rows the legacy table no longer has), so
                        the normal pipeline carries them to the new side again; run verify again after
  --rechecks N          re-checks before a difference is reported (default 3)
  --recheck-delay-ms MS delay before each re-check (default 2000)
  --chunk-size N        legacy rows per chunk: one keyset read, one key-map and one new-side query
                        each (default 5000, 1 to 100000)
  --sample F|N%|N       compare a sample: a fraction (0.01), a percentage (1%) or about N rows
                        (the fraction N / legacy rows). Rows are chosen by a hash of their global id
                        and the seed, the same on both sides; new-side-only rows are looked for
                        within the sample. The whole legacy table is still read (keys only are
                        hashed; only sampled rows are mapped and looked up)
  --sample-seed S       the seed of the sample (default: random, printed in the report); the same
                        seed selects the same rows again
  --since T             compare only legacy rows whose change-time column (--since-column, or
                        verify.entities.<name>.changedColumn) is at or after T: an ISO-8601 time
                        (2026-12-06T10:00:00Z; no zone = UTC) or an age (90s, 30m, 12h, 7d). The
                        whole legacy table is still read. Rows deleted from the legacy table, and
                        rows only the new side has, are NOT found with --since (they have no time)
  --since-column COL    the legacy column --since compares (a timestamp or date column the legacy
                        application sets on every insert and update)
  --progress            progress on stderr even when it is not a terminal (default: only on a
                        terminal; never with --json): rows done/total, rows/s, elapsed, ETA
  --range-bits N        accepted for compatibility; no longer used (verify reads in key order)
  --pipeline FILE       pipeline file (default: $PIPELINE_FILE or ./pipeline.yaml)
  --new-side-url URL    new side's PostgreSQL (default: verify.newSide.connection.url)
  --keymap-url URL      id-translation's key map (default: $KEYMAP_DATABASE_URL)

Exit codes: 0 both sides agree, 1 differences found, 2 bad arguments or configuration,
3 a database or Kafka unreachable, 4 internal error.

Examples:
  sync-ctl verify users
  sync-ctl verify --all --json
  sync-ctl verify crm.public.orders --repair
  sync-ctl verify users --sample 1% --progress
  sync-ctl verify users --since 24h --since-column updated_at`;

/** Records per producer.send of a repair (progress is reported after each). */
const REPAIR_BATCH = 1000;

const OPTIONS = {
  all: { type: 'boolean' },
  json: { type: 'boolean' },
  repair: { type: 'boolean' },
  rechecks: { type: 'string' },
  'recheck-delay-ms': { type: 'string' },
  'range-bits': { type: 'string' },
  'chunk-size': { type: 'string' },
  sample: { type: 'string' },
  'sample-seed': { type: 'string' },
  since: { type: 'string' },
  'since-column': { type: 'string' },
  progress: { type: 'boolean' },
  pipeline: { type: 'string' },
  'new-side-url': { type: 'string' },
  'keymap-url': { type: 'string' },
} as const;

function integer(value: string | undefined, option: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new UsageError(`--${option} ${value}: must be an integer from 0 to ${max}`);
  return n;
}

/** --sample: a fraction (0.01), a percentage (1%) or a row count (integer >= 1). */
export function parseSample(value: string, seed: string): NonNullable<VerifySelection['sample']> {
  const bad = (): never => {
    throw new UsageError(`--sample ${value}: must be a fraction above 0 and at most 1 (0.05), a percentage (5%) or a row count (10000)`);
  };
  if (/^\d+$/.test(value)) {
    const rows = Number(value);
    return rows >= 1 && Number.isSafeInteger(rows) ? { rows, seed } : bad();
  }
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(value);
  const fraction = percent ? Number(percent[1]) / 100 : /^\d*\.\d+$/.test(value) ? Number(value) : NaN;
  return fraction > 0 && fraction <= 1 ? { fraction, seed } : bad();
}

const AGE_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** --since: an ISO-8601 time (no zone = UTC) or an age before `now` (90s, 30m, 12h, 7d). */
export function parseSince(value: string, now: number): Date {
  const age = /^(\d+)([smhd])$/.exec(value);
  if (age) return new Date(now - Number(age[1]) * AGE_UNITS[age[2]!]!);
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value)) {
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(value) ? value : value.length === 10 ? `${value}T00:00:00Z` : `${value}Z`;
    const ms = Date.parse(zoned.replace(' ', 'T'));
    if (!Number.isNaN(ms)) return new Date(ms);
  }
  throw new UsageError(`--since ${value}: must be an ISO-8601 time (2026-12-06T10:00:00Z) or an age (90s, 30m, 12h, 7d)`);
}

function show(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}

function printReport(io: CommandIo, report: VerifyReport, repair: RepairPlan | undefined): void {
  io.out(`${report.entity} (verify entity ${report.name}) <-> new side ${report.newSide.join(' + ')}`);
  io.out(`  rows:   legacy ${report.legacyRows}, new side ${report.newRows}`);
  io.out(`  ranges: ${report.ranges}, ${report.differingRanges} differing (${report.comparisons} range comparisons)`);
  const sel = report.selection;
  if (sel?.sample) io.out(`  sample: ${(sel.sample.fraction * 100).toPrecision(3)}% of rows by global id (seed ${sel.sample.seed}), ${sel.legacyRowsRead} legacy rows read`);
  if (sel?.since) io.out(`  since:  legacy rows with ${sel.since.column} >= ${sel.since.at}, ${sel.legacyRowsRead} legacy rows read (deleted and new-side-only rows not looked for)`);
  if (report.differences.length === 0) {
    const settled = report.firstSeen > 0 ? ` (${report.firstSeen} difference(s) in flight settled within ${report.rechecks} re-check(s))` : '';
    io.out(`  result: AGREE${settled}`);
  } else {
    io.out(`  result: ${report.differences.length} DIFFERENCE(S), still there after ${report.rechecks} re-check(s)`);
    for (const d of report.differences.slice(0, 50)) {
      const fields = d.kind === 'different' ? '  ' + Object.entries(d.fields).map(([f, v]) => `${f}: legacy ${show(v.legacy)} != new ${show(v.new)}`).join('; ') : '';
      io.out(`    ${d.kind.padEnd(22)} ${d.id}  legacy key ${d.legacyKey === null ? '-' : JSON.stringify(d.legacyKey)}${fields}`);
    }
    if (report.differences.length > 50) io.out(`    ... and ${report.differences.length - 50} more (--json lists all)`);
  }
  if (repair) {
    io.out(`  repair: re-emitted ${repair.reemitted} row(s) as snapshot reads and ${repair.deletes} delete(s) into the pipeline; run verify again once they have flowed`);
    if (repair.notRepairable.length > 0) io.out(`          ${repair.notRepairable.length} row(s) exist only on the new side and are unknown to the key map: the new service must publish them again`);
  }
}

type EntityOptions = Omit<VerifyOptions, 'progress' | 'since'> & { since?: Date; sinceColumn?: string; json: boolean; forceProgress: boolean };

/** How --repair writes legacy.* records: the pipeline's technical-topic format (docs/debezium-compatibility.md). */
function repairEncoding(pipeline: ReturnType<typeof loadPipeline>, entity: VerifyEntity, described: TableDescription | undefined): RepairEncoding {
  if (pipeline.technicalTopics.format !== 'debezium') return nativeRepairEncoding;
  const { table } = entity;
  if (!described) throw new UsageError(`${table.system}.${table.schema}.${table.name}: table not found (Debezium-format repair needs its column types)`);
  const system = pipeline.systems.get(table.system)!;
  return debeziumRepairEncoding(
    new DebeziumEnvelopeEncoder(
      { dialect: system.dialect, system: table.system, database: described.database, schema: table.schema, table: table.name, key: table.key, columns: described.columns },
      { schemasEnable: pipeline.technicalTopics.schemasEnable, tombstonesOnDelete: pipeline.technicalTopics.tombstonesOnDelete },
    ),
  );
}

async function verifyEntity(io: CommandIo, entity: VerifyEntity, deps: { engine: MappingEngine; index: TableIndex; keymap: KeymapLookupRepository; fresh: NewSideRepository }, settings: EntityOptions, pipeline: ReturnType<typeof loadPipeline>): Promise<{ report: VerifyReport; encoding: RepairEncoding }> {
  const system = pipeline.systems.get(entity.table.system)!;
  const options = resolveLegacyDbOptions(system);
  const db = createLegacyDb({ ...options, connectTimeoutMs: io.connectTimeoutMs }, (err) => io.err(`${system.name}: ${err.message}`));
  try {
    await reach({ kind: 'legacy-db', label: `legacy database ${system.name}`, address: legacyDbAddress(options) }, io.connectTimeoutMs, () => db.ping());
    const reader = new LegacySideReader(createCaptureSource(db, system, entity.table), deps.keymap, deps.index, deps.engine, entity);
    const { since, sinceColumn, json, forceProgress, ...rest } = settings;
    const progress = commandProgress(io, { label: `verify ${entity.name}`, json, force: forceProgress });
    const service = new VerifyService(entity, reader, deps.fresh, deps.keymap, { ...rest, ...(since ? { since: { column: sinceColumn ?? entity.changedColumn!, at: since } } : {}), progress });
    try {
      const report = await service.run();
      // The catalog is read only when a Debezium-format repair may follow, while the database is open.
      const encoding = pipeline.technicalTopics.format === 'debezium' && report.differences.length > 0 ? repairEncoding(pipeline, entity, await describeTable(db, entity.table.schema, entity.table.name)) : nativeRepairEncoding;
      return { report, encoding };
    } catch (err) {
      if (err instanceof VerifyInputError) throw new UsageError(err.message);
      throw err;
    }
  } finally {
    await closeWithin(() => db.close());
  }
}

export const verifyCommand: Command = {
  path: ['verify'],
  summary: 'prove a legacy table and the new side agree: streamed row comparison in key order, differing rows; --sample, --since, --repair',
  help: HELP,
  options: OPTIONS,
  complete: { files: ['pipeline'] },
  async run(args, io) {
    const { values, positionals } = parseOptions(args, OPTIONS);
    const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
    const mappers = appMappers();
    const loaded = loadMappings(pipeline, mappers);
    const config = loadVerifyConfig(pipeline, loaded.set);
    const entities = values.all ? [...config.entities] : positionals.map((name) => selectEntity(config, name) ?? (() => { throw new UsageError(`entity "${name}" is not in the verify section (known: ${config.entities.map((e) => e.name).join(', ')})`); })());
    if (entities.length === 0) throw new UsageError('name an entity (or --all)');
    integer(values['range-bits'], 'range-bits', config.rangeBits, 20);
    const seed = values['sample-seed'] ?? randomBytes(4).toString('hex');
    if (values['sample-seed'] !== undefined && (values.sample === undefined || !/^[\w.-]{1,64}$/.test(seed))) throw new UsageError(`--sample-seed ${seed}: must go with --sample and be 1 to 64 letters, digits, '.', '_' or '-'`);
    const since = values.since === undefined ? undefined : parseSince(values.since, Date.now());
    if (values['since-column'] !== undefined && since === undefined) throw new UsageError('--since-column goes with --since');
    if (since) for (const e of entities) if ((values['since-column'] ?? e.changedColumn) === undefined) throw new UsageError(`--since: name the legacy change-time column of ${e.name} with --since-column or verify.entities.${e.name}.changedColumn`);
    const chunkSize = integer(values['chunk-size'], 'chunk-size', 5000, 100_000);
    if (chunkSize < 1) throw new UsageError('--chunk-size 0: must be an integer from 1 to 100000');
    const options: EntityOptions = {
      rechecks: integer(values.rechecks, 'rechecks', 3, 100),
      recheckDelayMs: integer(values['recheck-delay-ms'], 'recheck-delay-ms', 2000, 600_000),
      chunkSize,
      ...(values.sample !== undefined ? { sample: parseSample(values.sample, seed) } : {}),
      ...(since ? { since } : {}),
      ...(values['since-column'] !== undefined ? { sinceColumn: values['since-column'] } : {}),
      json: values.json === true,
      forceProgress: values.progress === true,
    };
    const keymapUrl = values['keymap-url'] ?? io.env.keymap.databaseUrl?.reveal();
    if (!keymapUrl) throw new UsageError('no key map database: set KEYMAP_DATABASE_URL or pass --keymap-url');
    const newSideUrl = values['new-side-url'] ?? resolveSecret(config.connection, 'verify.newSide.connection.url').reveal();
    const deps = { engine: new MappingEngine(loaded, mappers), index: new TableIndex(pipeline), keymap: new KeymapLookupRepository(keymapUrl), fresh: new NewSideRepository(newSideUrl) };
    const reports: Array<VerifyReport & { repair?: RepairPlan }> = [];
    try {
      await reach({ kind: 'keymap-db', label: 'key map database', address: urlAddress(keymapUrl) }, io.connectTimeoutMs, () => deps.keymap.connect());
      await reach({ kind: 'new-side-db', label: 'new side database', address: urlAddress(newSideUrl) }, io.connectTimeoutMs, () => deps.fresh.connect());
      for (const entity of entities) {
        const { report, encoding } = await verifyEntity(io, entity, deps, options, pipeline);
        let repair: RepairPlan | undefined;
        if (values.repair && report.differences.length > 0) {
          const plan = repairRecords(entity.table, report.differences, Date.now(), encoding);
          if (plan.records.length > 0) {
            const progress = commandProgress(io, { label: `repair ${entity.name}`, unit: 'records', json: values.json === true, force: values.progress === true });
            progress.setTotal(plan.records.length);
            await withKafka(pipeline, io, async ({ producer }) => {
              for (let i = 0; i < plan.records.length; i += REPAIR_BATCH) {
                const batch = plan.records.slice(i, i + REPAIR_BATCH);
                await producer.send(batch);
                progress.add(batch.length);
              }
            });
            progress.finish();
          }
          repair = plan;
        }
        reports.push({ ...report, ...(repair ? { repair: { ...repair, records: [] } } : {}) });
        if (!values.json) printReport(io, report, repair);
      }
    } finally {
      await closeWithin(() => deps.keymap.close());
      await closeWithin(() => deps.fresh.close());
    }
    await publishSummaries(io, pipeline, reports);
    if (values.json) io.out(JSON.stringify(values.all || reports.length > 1 ? reports.map(jsonReport) : jsonReport(reports[0]!), null, 2));
    return reports.some((r) => r.differences.length > 0) ? EXIT.failed : EXIT.ok;
  },
};

const SUMMARY_DEADLINE_MS = 10_000;

/**
 * Records each entity's outcome on sync.status for the status console. Best effort and bounded: a
 * broker that cannot be reached costs a warning on stderr, never the verify result or exit code.
 */
async function publishSummaries(io: CommandIo, pipeline: ReturnType<typeof loadPipeline>, reports: readonly VerifyReport[]): Promise<void> {
  const at = new Date().toISOString();
  const by = userInfo().username;
  const records = reports.map((r) => {
    const summary: VerifySummary = { kind: 'verify', entity: r.entity, at, by, agree: r.differences.length === 0, differences: r.differences.length, legacyRows: r.legacyRows, newRows: r.newRows };
    return { topic: Topics.status, key: statusKey(summary), value: JSON.stringify(summary) };
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      withKafka(pipeline, io, async ({ producer, admin }) => {
        await admin.ensureTopics([{ topic: Topics.status, compacted: true }]);
        await producer.send(records);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${SUMMARY_DEADLINE_MS / 1000} s`)), SUMMARY_DEADLINE_MS);
      }),
    ]);
  } catch (err) {
    io.err(`sync-ctl verify: result not recorded on ${Topics.status} for the status console: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

function jsonReport(r: VerifyReport & { repair?: RepairPlan }): unknown {
  const { repair, ...rest } = r;
  return { ...rest, agree: r.differences.length === 0, ...(repair ? { repair: { reemitted: repair.reemitted, deletes: repair.deletes, notRepairable: repair.notRepairable } } : {}) };
}
