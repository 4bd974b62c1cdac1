import { resolveLegacyDbOptions, type SystemConfig } from '@sync/config';
import { applyDdl, captureProblems, changelogDdl, createLegacyDb, prepareCapture } from '@sync/legacy-db';
import { EXIT, UsageError, type Command } from '../command';
import { closeWithin, legacyDbAddress, reach } from '../dependency';
import { loadPipeline, maxPositionals, parseOptions, selectSystems } from './pipeline-args';

const HELP = `Usage: sync-ctl schema [--pipeline FILE] [--system NAME] [--apply | --verify] [--drop] [--json]

Prints the DDL that change capture needs in the legacy databases, for review:
  trigger mode    the sync schema, one changelog table per table (full row images as JSON,
                  the writer's origin, a commit-safe transaction watermark) and its trigger
  changelog mode  a watermark column added to the existing changelog table
                  (PostgreSQL: xid8 DEFAULT pg_current_xact_id(); SQL Server: rowversion)
  logical mode    (PostgreSQL) the system's publication of its logical tables, and a replica
                  identity that carries the key for tables whose identity does not (FULL);
                  --apply also creates the replication slot sync_<system>
The script is idempotent: apply it again after adding tables.

Options:
  --pipeline FILE  pipeline file (default: $PIPELINE_FILE or ./pipeline.yaml)
  --system NAME    only this system
  --apply          run the DDL (PostgreSQL: in one transaction); exit code 1 when the database
                   refuses it (nothing was changed), 3 when it cannot be reached
  --verify         check, without changing anything, that capture can run: logical mode needs
                   wal_level=logical, the REPLICATION privilege, the publication and a replica
                   identity carrying the key; exit code 1 when something is missing
  --drop           the statements that remove the triggers, functions, changelogs and
                   publication instead (with --apply, the replication slot too)
  --json           print {"systems":[{"system","dialect","statements":[...],"applied"}]}

Examples:
  sync-ctl schema --system crm > crm-capture.sql     # review, then
  sync-ctl schema --system crm --apply
  sync-ctl schema --system crm --verify`;

const OPTIONS = {
  pipeline: { type: 'string' },
  system: { type: 'string' },
  apply: { type: 'boolean' },
  verify: { type: 'boolean' },
  drop: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export const schemaCommand: Command = {
  path: ['schema'],
  summary: 'print or apply the change-capture DDL (changelog tables, triggers)',
  help: HELP,
  options: OPTIONS,
  complete: { files: ['pipeline'] },
  async run(args, io) {
    const { values, positionals } = parseOptions(args, OPTIONS);
    maxPositionals(positionals, 0, 'name a system with --system');
    const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
    if (values.verify) {
      if (values.apply || values.drop) throw new UsageError('--verify changes nothing: drop --apply / --drop');
      return verify(selectSystems(pipeline, values.system), values.json === true, io);
    }
    // Every secret a connection names is read before anything is printed or connected to.
    const plans = selectSystems(pipeline, values.system).map((system) => ({ system, statements: changelogDdl(system, values.drop === true), db: values.apply ? resolveLegacyDbOptions(system) : undefined }));
    const results: Array<{ system: string; dialect: string; statements: string[]; applied: boolean }> = [];
    for (const { system, statements, db: options } of plans) {
      const separator = system.dialect === 'mssql' ? '\nGO\n' : ';\n\n';
      if (!values.json) io.out(`-- system ${system.name} (${system.dialect})\n${statements.join(separator)}${system.dialect === 'mssql' ? '\nGO' : ';'}\n`);
      results.push({ system: system.name, dialect: system.dialect, statements: [...statements], applied: false });
      if (!options) continue;
      const db = createLegacyDb({ ...options, connectTimeoutMs: io.connectTimeoutMs }, (err) => io.err(`${system.name}: ${err.message}`));
      try {
        await reach({ kind: 'legacy-db', label: `legacy database ${system.name}`, address: legacyDbAddress(options) }, io.connectTimeoutMs, () => db.ping());
        try {
          await applyDdl(db, statements);
        } catch (err) {
          io.err(`sync-ctl schema: ${system.name}: applying the DDL failed, nothing was changed: ${(err as Error).message}`);
          if (values.json) io.out(JSON.stringify({ systems: results, failed: { system: system.name, message: (err as Error).message } }));
          return EXIT.failed;
        }
        results[results.length - 1]!.applied = true;
        io.err(`applied ${statements.length} statements to ${system.name}`);
        for (const note of await prepareCapture(db, system, values.drop === true)) io.err(`${system.name}: ${note}`);
      } finally {
        await closeWithin(() => db.close());
      }
    }
    if (values.json) io.out(JSON.stringify({ systems: results }));
    return EXIT.ok;
  },
};

/** `--verify`: what keeps capture of each system from running; exit code 1 when anything does. */
async function verify(systems: readonly SystemConfig[], json: boolean, io: Parameters<Command['run']>[1]): Promise<number> {
  const report: Array<{ system: string; problems: string[] }> = [];
  for (const system of systems) {
    const options = resolveLegacyDbOptions(system);
    const db = createLegacyDb({ ...options, connectTimeoutMs: io.connectTimeoutMs }, (err) => io.err(`${system.name}: ${err.message}`));
    try {
      await reach({ kind: 'legacy-db', label: `legacy database ${system.name}`, address: legacyDbAddress(options) }, io.connectTimeoutMs, () => db.ping());
      const problems = await captureProblems(db, system);
      report.push({ system: system.name, problems });
      if (!json) io.out(problems.length === 0 ? `${system.name}: ready` : problems.map((p) => `${system.name}: ${p}`).join('\n'));
    } finally {
      await closeWithin(() => db.close());
    }
  }
  if (json) io.out(JSON.stringify({ systems: report }));
  return report.some((r) => r.problems.length > 0) ? EXIT.failed : EXIT.ok;
}
