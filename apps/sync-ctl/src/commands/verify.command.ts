import { resolveLegacyDbOptions, resolveSecret } from '@sync/config';
import { TableIndex } from '@sync/keymap';
import { createCaptureSource, createLegacyDb } from '@sync/legacy-db';
import { loadMappings, MappingEngine } from '@sync/mapping';
import { appMappers } from '@sync/custom-mappers';
import { EXIT, UsageError, type Command, type CommandIo } from '../command';
import { KeymapLookupRepository } from '../verify/keymap-lookup.repository';
import { LegacySideReader } from '../verify/legacy-side.reader';
import { NewSideRepository } from '../verify/new-side.repository';
import { loadVerifyConfig, selectEntity, type VerifyEntity } from '../verify/verify-config';
import { repairRecords, type RepairPlan } from '../verify/verify-repair';
import { VerifyService, type VerifyReport } from '../verify/verify.service';
import { closeWithin, legacyDbAddress, reach, urlAddress } from '../dependency';
import { withKafka } from './kafka-session';
import { loadPipeline, parseOptions } from './pipeline-args';

const HELP = `Usage: sync-ctl verify <entity>... | --all [--json] [--repair] [--rechecks N] [--recheck-delay-ms MS]
                       [--range-bits N] [--pipeline FILE] [--new-side-url URL] [--keymap-url URL]

Proves that a legacy table and the new side agree (docs/verify.md). The new side and the compared
columns are declared in the pipeline file's verify section. Each legacy row is named by its global
id (through id-translation's key map) and mapped with the entity's forward mapping; the new side's
rows are read by global id. Both sides are summarised as row counts and hashes per range of ids;
differing ranges are bisected down to the rows that differ, which are re-checked after a delay
(changes in flight settle) and reported only if they persist.

<entity> is a name of verify.entities (e.g. users) or <system>.<schema>.<table>.

Options:
  --all                 every entity of the verify section
  --json                print the report as JSON
  --repair              re-emit the differing legacy rows into legacy.<system>.<schema>.<table> as
                        snapshot reads (op "r"; deletes for rows the legacy table no longer has), so
                        the normal pipeline carries them to the new side again; run verify again after
  --rechecks N          re-checks before a difference is reported (default 3)
  --recheck-delay-ms MS delay before each re-check (default 2000)
  --range-bits N        2^N ranges (default: verify.rangeBits or 10)
  --pipeline FILE       pipeline file (default: $PIPELINE_FILE or ./pipeline.yaml)
  --new-side-url URL    new side's PostgreSQL (default: verify.newSide.connection.url)
  --keymap-url URL      id-translation's key map (default: $KEYMAP_DATABASE_URL)

Exit codes: 0 both sides agree, 1 differences found, 2 bad arguments or configuration,
3 a database or Kafka unreachable, 4 internal error.

Examples:
  sync-ctl verify users
  sync-ctl verify --all --json
  sync-ctl verify crm.public.orders --repair`;

const OPTIONS = {
  all: { type: 'boolean' },
  json: { type: 'boolean' },
  repair: { type: 'boolean' },
  rechecks: { type: 'string' },
  'recheck-delay-ms': { type: 'string' },
  'range-bits': { type: 'string' },
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


function show(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}

function printReport(io: CommandIo, report: VerifyReport, repair: RepairPlan | undefined): void {
  io.out(`${report.entity} (verify entity ${report.name}) <-> new side ${report.newSide.join(' + ')}`);
  io.out(`  rows:   legacy ${report.legacyRows}, new side ${report.newRows}`);
  io.out(`  ranges: ${report.ranges}, ${report.differingRanges} differing (${report.comparisons} range comparisons)`);
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

async function verifyEntity(io: CommandIo, entity: VerifyEntity, deps: { engine: MappingEngine; index: TableIndex; keymap: KeymapLookupRepository; fresh: NewSideRepository }, settings: { rangeBits: number; rechecks: number; recheckDelayMs: number }, pipeline: ReturnType<typeof loadPipeline>): Promise<VerifyReport> {
  const system = pipeline.systems.get(entity.table.system)!;
  const options = resolveLegacyDbOptions(system);
  const db = createLegacyDb({ ...options, connectTimeoutMs: io.connectTimeoutMs }, (err) => io.err(`${system.name}: ${err.message}`));
  try {
    await reach({ kind: 'legacy-db', label: `legacy database ${system.name}`, address: legacyDbAddress(options) }, io.connectTimeoutMs, () => db.ping());
    const reader = new LegacySideReader(createCaptureSource(db, system, entity.table), deps.keymap, deps.index, deps.engine, entity);
    return await new VerifyService(entity, reader, deps.fresh, deps.keymap, { ...settings, pageSize: 1000 }).run();
  } finally {
    await closeWithin(() => db.close());
  }
}

export const verifyCommand: Command = {
  path: ['verify'],
  summary: 'prove a legacy table and the new side agree: counts, range hashes, differing rows; --repair',
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
    const options = {
      rangeBits: integer(values['range-bits'], 'range-bits', config.rangeBits, 20),
      rechecks: integer(values.rechecks, 'rechecks', 3, 100),
      recheckDelayMs: integer(values['recheck-delay-ms'], 'recheck-delay-ms', 2000, 600_000),
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
        const report = await verifyEntity(io, entity, deps, options, pipeline);
        let repair: RepairPlan | undefined;
        if (values.repair && report.differences.length > 0) {
          const plan = repairRecords(entity.table, report.differences);
          if (plan.records.length > 0) await withKafka(pipeline, io, ({ producer }) => producer.send(plan.records));
          repair = plan;
        }
        reports.push({ ...report, ...(repair ? { repair: { ...repair, records: [] } } : {}) });
        if (!values.json) printReport(io, report, repair);
      }
    } finally {
      await closeWithin(() => deps.keymap.close());
      await closeWithin(() => deps.fresh.close());
    }
    if (values.json) io.out(JSON.stringify(values.all || reports.length > 1 ? reports.map(jsonReport) : jsonReport(reports[0]!), null, 2));
    return reports.some((r) => r.differences.length > 0) ? EXIT.failed : EXIT.ok;
  },
};

function jsonReport(r: VerifyReport & { repair?: RepairPlan }): unknown {
  const { repair, ...rest } = r;
  return { ...rest, agree: r.differences.length === 0, ...(repair ? { repair: { reemitted: repair.reemitted, deletes: repair.deletes, notRepairable: repair.notRepairable } } : {}) };
}
