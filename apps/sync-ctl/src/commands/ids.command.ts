import { loadEnv } from '@sync/config';
import { canonicalKey, connectKeymap, createKeymapDataSource, KeymapReadModel, tableRefOf, type KeymapEntryView } from '@sync/keymap';
import { EXIT, UsageError, type Command } from '../command';
import { loadPipeline, parseOptions } from './pipeline-args';

const HELP = `Usage: sync-ctl ids lookup --system NAME --table [SCHEMA.]TABLE --key VALUE[,VALUE...] [--pipeline FILE]
       sync-ctl ids lookup --global-id ID [--system NAME]
       sync-ctl ids migrate

Answers "which global id is crm public.users 42" and the reverse, from id-translation's key map
(KEYMAP_DATABASE_URL, or --database-url). \`migrate\` applies the key map's migrations (the app
also applies them when it starts).

Options:
  --system NAME        legacy system (as named in the pipeline file)
  --table T            table, schema-qualified or in the dialect's default schema
  --key V[,V...]       key values in key order (composite keys: comma separated), or a JSON object
  --global-id ID       reverse lookup: every legacy key of this global id
  --pipeline FILE      pipeline file, to know the table's key columns (default: $PIPELINE_FILE)
  --database-url URL   key map database (default: $KEYMAP_DATABASE_URL)
  --json               print JSON

Exit codes: 0 found, 1 not found, 2 bad arguments, 3 key map unreachable.

Examples:
  sync-ctl ids lookup --system crm --table public.users --key 42
  sync-ctl ids lookup --system erp --table sales.order_lines --key 1001,3
  sync-ctl ids lookup --global-id 0b1c...`;

const OPTIONS = {
  system: { type: 'string' },
  table: { type: 'string' },
  key: { type: 'string' },
  'global-id': { type: 'string' },
  pipeline: { type: 'string' },
  'database-url': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const idsCommand: Command = {
  path: ['ids'],
  summary: 'look up global ids in the key map (ids lookup), or migrate it (ids migrate)',
  help: HELP,
  async run(args, io) {
    const [action, ...rest] = args;
    if (action !== 'lookup' && action !== 'migrate') throw new UsageError('expected "lookup" or "migrate" (see --help)');
    const { values } = parseOptions(rest, OPTIONS);
    const url = values['database-url'] ?? loadEnv().keymap.databaseUrl?.reveal();
    if (!url) throw new UsageError('no key map database: set KEYMAP_DATABASE_URL or pass --database-url');
    const dataSource = createKeymapDataSource(url, { poolSize: 2 });
    try {
      await connectKeymap(dataSource);
    } catch (err) {
      io.err(`sync-ctl ids: key map database unreachable: ${(err as Error).message}`);
      return EXIT.unavailable;
    }
    try {
      if (action === 'migrate') {
        io.out('key map schema is up to date');
        return EXIT.ok;
      }
      const keymap = new KeymapReadModel(dataSource);
      let rows: KeymapEntryView[];
      if (values['global-id'] !== undefined) {
        rows = await keymap.entriesOfGlobalId(values['global-id'], values.system);
      } else {
        const { system, table, key } = values;
        if (!system || !table || key === undefined) throw new UsageError('give --system, --table and --key, or --global-id');
        const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
        const config = pipeline.systems.get(system)?.tables.find((t) => tableRefOf(t.schema, t.name) === table || t.name === table);
        if (!config) throw new UsageError(`--table ${table}: no such table of system ${system} in the pipeline file`);
        const parts = key.trim().startsWith('{') ? (JSON.parse(key) as Record<string, unknown>) : Object.fromEntries(config.key.map((c, i) => [c, key.split(',')[i]]));
        const localKey = canonicalKey(config.key, parts);
        if (localKey === undefined) throw new UsageError(`--key: ${config.key.length} values needed for [${config.key.join(', ')}]`);
        rows = await keymap.entriesOfKey(system, tableRefOf(config.schema, config.name), localKey);
      }
      if (values.json) io.out(JSON.stringify(rows.map((r) => ({ system: r.system, table: r.tableRef, key: r.keyValues, globalId: r.globalId, origin: r.origin })), null, 2));
      else for (const r of rows) io.out(`${r.system} ${r.tableRef} ${JSON.stringify(r.keyValues)} -> ${r.globalId} (${r.origin})`);
      if (rows.length === 0) io.err('not found');
      return rows.length > 0 ? EXIT.ok : EXIT.failed;
    } finally {
      await dataSource.destroy();
    }
  },
};
