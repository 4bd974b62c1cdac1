import { resolveLegacyDbOptions } from '@sync/config';
import { applyDdl, changelogDdl, createLegacyDb } from '@sync/legacy-db';
import { EXIT, type Command } from '../command';
import { loadPipeline, parseOptions, selectSystems } from './pipeline-args';

const HELP = `Usage: sync-ctl schema [--pipeline FILE] [--system NAME] [--apply] [--drop]

Prints the DDL that change capture needs in the legacy databases, for review:
  trigger mode    the sync schema, one changelog table per table (full row images as JSON,
                  the writer's origin, a commit-safe transaction watermark) and its trigger
  changelog mode  a watermark column added to the existing changelog table
                  (PostgreSQL: xid8 DEFAULT pg_current_xact_id(); SQL Server: rowversion)
The script is idempotent: apply it again after adding tables.

Options:
  --pipeline FILE  pipeline file (default: $PIPELINE_FILE or ./pipeline.yaml)
  --system NAME    only this system
  --apply          run the DDL (PostgreSQL: in one transaction)
  --drop           the statements that remove the triggers, functions and changelogs instead

Examples:
  sync-ctl schema --system crm > crm-capture.sql     # review, then
  sync-ctl schema --system crm --apply`;

export const schemaCommand: Command = {
  path: ['schema'],
  summary: 'print or apply the change-capture DDL (changelog tables, triggers)',
  help: HELP,
  async run(args, io) {
    const { values } = parseOptions(args, {
      pipeline: { type: 'string' },
      system: { type: 'string' },
      apply: { type: 'boolean' },
      drop: { type: 'boolean' },
    });
    const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
    for (const system of selectSystems(pipeline, values.system)) {
      const statements = changelogDdl(system, values.drop === true);
      const separator = system.dialect === 'mssql' ? '\nGO\n' : ';\n\n';
      io.out(`-- system ${system.name} (${system.dialect})\n${statements.join(separator)}${system.dialect === 'mssql' ? '\nGO' : ';'}\n`);
      if (!values.apply) continue;
      const db = createLegacyDb(resolveLegacyDbOptions(system), (err) => io.err(`${system.name}: ${err.message}`));
      try {
        await applyDdl(db, statements);
        io.err(`applied ${statements.length} statements to ${system.name}`);
      } catch (err) {
        io.err(`${system.name}: applying the DDL failed, nothing was changed: ${(err as Error).message}`);
        return EXIT.unavailable;
      } finally {
        await db.close();
      }
    }
    return EXIT.ok;
  },
};
