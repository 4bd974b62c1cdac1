import { canonicalKey, connectKeymap, createKeymapDataSource, KeymapReadModel, tableRefOf } from '@sync/keymap';
import { EXIT, UsageError, type Command } from '../command';
import { closeWithin, reach, urlAddress } from '../dependency';
import { loadPipeline, maxPositionals, parseOptions } from './pipeline-args';

const HELP = `Usage: sync-ctl ids lookup --system NAME --table [SCHEMA.]TABLE --key VALUE[,VALUE...] [--pipeline FILE]
       sync-ctl ids lookup --global-id ID [--system NAME]
       sync-ctl ids migrate [--database-url URL]

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
  --json               print JSON: lookup [{system,table,key,globalId,origin}], migrate {migrated:[...]}

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

/** The key map rows a lookup asks for, decided from the arguments alone (before connecting). */
type LookupQuery = { globalId: string; system?: string } | { system: string; tableRef: string; localKey: string };

function lookupQuery(values: { system?: string; table?: string; key?: string; 'global-id'?: string; pipeline?: string }, pipelineFile: string): LookupQuery {
  if (values['global-id'] !== undefined) {
    if (values.table !== undefined || values.key !== undefined) throw new UsageError('--global-id looks up every key of an id: drop --table and --key');
    return { globalId: values['global-id'], ...(values.system ? { system: values.system } : {}) };
  }
  const { system, table, key } = values;
  if (!system || !table || key === undefined) throw new UsageError('give --system, --table and --key, or --global-id');
  const pipeline = loadPipeline(values.pipeline, pipelineFile);
  const config = pipeline.systems.get(system)?.tables.find((t) => tableRefOf(t.schema, t.name) === table || t.name === table);
  if (!config) throw new UsageError(`--table ${table}: no such table of system ${system} in the pipeline file`);
  let parts: Record<string, unknown>;
  if (key.trim().startsWith('{')) {
    try {
      parts = JSON.parse(key) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`--key ${key}: not valid JSON (${(err as Error).message})`);
    }
  } else parts = Object.fromEntries(config.key.map((c, i) => [c, key.split(',')[i]]));
  const localKey = canonicalKey(config.key, parts);
  if (localKey === undefined) throw new UsageError(`--key: ${config.key.length} values needed for [${config.key.join(', ')}]`);
  return { system, tableRef: tableRefOf(config.schema, config.name), localKey };
}

export const idsCommand: Command = {
  path: ['ids'],
  summary: 'look up global ids in the key map (ids lookup), or migrate it (ids migrate)',
  help: HELP,
  options: OPTIONS,
  complete: { words: ['lookup', 'migrate'], files: ['pipeline'] },
  async run(args, io) {
    const [action, ...rest] = args;
    if (action !== 'lookup' && action !== 'migrate') throw new UsageError('expected "lookup" or "migrate" (see --help)');
    const { values, positionals } = parseOptions(rest, OPTIONS);
    maxPositionals(positionals, 0, `ids ${action} takes options only`);
    const query = action === 'lookup' ? lookupQuery(values, io.pipelineFile) : undefined;
    const url = values['database-url'] ?? io.env.keymap.databaseUrl?.reveal();
    if (!url) throw new UsageError('no key map database: set KEYMAP_DATABASE_URL or pass --database-url');
    const dataSource = createKeymapDataSource(url, { poolSize: 2 });
    try {
      await reach({ kind: 'keymap-db', label: 'key map database', address: urlAddress(url) }, io.connectTimeoutMs, () => dataSource.initialize());
      const migrated = await connectKeymap(dataSource);
      if (query === undefined) {
        if (values.json) io.out(JSON.stringify({ migrated }));
        else io.out(migrated.length ? `applied key map migrations: ${migrated.join(', ')}` : 'key map schema is up to date');
        return EXIT.ok;
      }
      const keymap = new KeymapReadModel(dataSource);
      const rows = 'globalId' in query ? await keymap.entriesOfGlobalId(query.globalId, query.system) : await keymap.entriesOfKey(query.system, query.tableRef, query.localKey);
      if (values.json) io.out(JSON.stringify(rows.map((r) => ({ system: r.system, table: r.tableRef, key: r.keyValues, globalId: r.globalId, origin: r.origin })), null, 2));
      else for (const r of rows) io.out(`${r.system} ${r.tableRef} ${JSON.stringify(r.keyValues)} -> ${r.globalId} (${r.origin})`);
      if (rows.length === 0) io.err('not found');
      return rows.length > 0 ? EXIT.ok : EXIT.failed;
    } finally {
      await closeWithin(async () => {
        if (dataSource.isInitialized) await dataSource.destroy();
      });
    }
  },
};
