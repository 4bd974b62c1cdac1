import { ConfigValidationError, loadPipelineFile, resolveLegacyDbOptions, type ConfigIssue, type PipelineConfig, type SystemConfig, type TableConfig } from '@sync/config';
import { appMappers } from '@sync/custom-mappers';
import { createLegacyDb, describeTable, type TableDescription } from '@sync/legacy-db';
import { crossCheck, loadMappings, type FieldType, type LoadedMappings, type PipelineProblem } from '@sync/mapping';
import { EXIT, UsageError, type Command, type CommandIo } from '../command';
import { loadVerifyConfig } from '../verify/verify-config';
import { parseOptions } from './pipeline-args';

const HELP = `Usage: sync-ctl validate [PIPELINE] [--pipeline FILE] [--db] [--json]

Runs every check the apps run on the pipeline file at start-up, for all four apps at once, plus
cross-checks, without connecting to Kafka:
  pipeline  the file itself: YAML, fields, types, ranges, capture modes, foreign keys (libs/config)
  mappings  mappings: and replication: (what domain-transform compiles), then cross-checks: the
            columns and foreign keys that reverse and replication rules write exist on their tables;
            a rule that can insert rows whose key nobody provides is a warning
  verify    the verify: section, when present (what sync-ctl verify reads)
  database  with --db: each legacy table exists, its key is its primary key (or a unique index),
            every column the pipeline names exists, and typed reverse columns fit the column types

Exit codes: 0 valid (warnings allowed), 2 invalid (every problem listed), 3 a legacy database
unreachable (--db).

Options:
  PIPELINE, --pipeline FILE  pipeline file (default: $PIPELINE_FILE or ./pipeline.yaml)
  --db                       also check against the legacy databases (reads the catalog only)
  --json                     print { pipeline, valid, checks, problems: [{ severity, check, path,
                             message, line?, column? }] } on stdout

Examples:
  sync-ctl validate pipeline.yaml
  sync-ctl validate --db --json`;

type Check = 'pipeline' | 'mappings' | 'verify' | 'database';

/** One line of the report; the shape of --json's problems (stable: fields are only ever added). */
export interface ValidationProblem {
  readonly severity: 'error' | 'warning';
  readonly check: Check;
  readonly path: string;
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

export interface ValidationReport {
  readonly pipeline: string;
  readonly valid: boolean;
  /** The checks that ran (later ones need the earlier ones to pass). */
  readonly checks: readonly Check[];
  readonly problems: readonly ValidationProblem[];
}

class Unreachable extends Error {}

const OPTIONS = { pipeline: { type: 'string' }, db: { type: 'boolean' }, json: { type: 'boolean' } } as const;

export const validateCommand: Command = {
  path: ['validate'],
  summary: 'check the pipeline file as every app does at start-up, plus cross-checks (--db: against the databases)',
  help: HELP,
  options: OPTIONS,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, OPTIONS);
    if (positionals.length > 1) throw new UsageError(`one pipeline file at most (got ${positionals.join(', ')})`);
    if (positionals[0] !== undefined && values.pipeline !== undefined) throw new UsageError('name the pipeline file once: as PIPELINE or --pipeline');
    const file = positionals[0] ?? values.pipeline ?? io.pipelineFile;
    let report: ValidationReport;
    try {
      report = await validatePipeline(file, { db: values.db === true, log: (text) => io.err(text) });
    } catch (err) {
      if (!(err instanceof Unreachable)) throw err;
      io.err(`sync-ctl validate: ${err.message}`);
      return EXIT.unavailable;
    }
    if (values.json) io.out(JSON.stringify(report, null, 2));
    else printReport(io, report);
    return report.valid ? EXIT.ok : EXIT.usage;
  },
};

function printReport(io: CommandIo, report: ValidationReport): void {
  for (const p of report.problems) {
    const position = p.line === undefined ? '' : ` (${report.pipeline}:${p.line}${p.column === undefined ? '' : `:${p.column}`})`;
    io.out(`${p.severity} [${p.check}] ${p.path}: ${p.message}${position}`);
  }
  const errors = report.problems.filter((p) => p.severity === 'error').length;
  const warnings = report.problems.length - errors;
  const summary = `${report.pipeline}: ${report.valid ? 'valid' : 'INVALID'} (${errors} error(s), ${warnings} warning(s); checked: ${report.checks.join(', ')})`;
  if (report.valid) io.out(summary);
  else io.err(summary);
}

/** Runs the checks in order; a check runs only when the ones it builds on passed. */
export async function validatePipeline(file: string, options: { db: boolean; log: (text: string) => void }): Promise<ValidationReport> {
  const problems: ValidationProblem[] = [];
  const checks: Check[] = ['pipeline'];
  const done = (): ValidationReport => ({ pipeline: file, valid: !problems.some((p) => p.severity === 'error'), checks, problems });

  let pipeline: PipelineConfig;
  try {
    pipeline = loadPipelineFile(file);
  } catch (err) {
    if (!(err instanceof ConfigValidationError)) throw err;
    problems.push(...issuesOf('pipeline', err.issues));
    return done();
  }

  checks.push('mappings');
  let mappings: LoadedMappings;
  try {
    mappings = loadMappings(pipeline, appMappers());
  } catch (err) {
    if (!(err instanceof ConfigValidationError)) throw err;
    problems.push(...issuesOf('mappings', err.issues));
    return done();
  }
  problems.push(...crossCheck(pipeline, mappings.set).map((p: PipelineProblem) => ({ ...p, check: 'mappings' as const })));

  if (Object.keys(pipeline.verify).length > 0) {
    checks.push('verify');
    try {
      loadVerifyConfig(pipeline, mappings.set);
    } catch (err) {
      if (!(err instanceof ConfigValidationError)) throw err;
      problems.push(...issuesOf('verify', err.issues));
    }
  }

  if (options.db && !problems.some((p) => p.severity === 'error')) {
    checks.push('database');
    for (const system of pipeline.systems.values()) problems.push(...(await checkDatabase(system, mappings)));
  }
  return done();
}

function issuesOf(check: Check, issues: readonly ConfigIssue[]): ValidationProblem[] {
  return issues.map((i) => ({ severity: 'error', check, path: i.path, message: i.message, ...(i.line !== undefined && { line: i.line }), ...(i.column !== undefined && { column: i.column }) }));
}

async function checkDatabase(system: SystemConfig, mappings: LoadedMappings): Promise<ValidationProblem[]> {
  let settings;
  try {
    settings = resolveLegacyDbOptions(system);
  } catch (err) {
    if (!(err instanceof ConfigValidationError)) throw err;
    return issuesOf('database', err.issues);
  }
  const db = createLegacyDb(settings, () => undefined);
  try {
    try {
      await db.ping();
    } catch (err) {
      throw new Unreachable(`legacy database of system ${system.name} unreachable: ${(err as Error).message}`);
    }
    const problems: ValidationProblem[] = [];
    for (const [i, table] of system.tables.entries()) {
      const described = await describeTable(db, table.schema, table.name);
      problems.push(...tableProblems(table, `systems.${system.name}.tables[${i}]`, described, mappings));
    }
    return problems;
  } finally {
    await db.close();
  }
}

/** What the database says about one table of the pipeline file (exported for unit tests). */
export function tableProblems(table: TableConfig, at: string, described: TableDescription | undefined, mappings: LoadedMappings): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const error = (path: string, message: string): void => void problems.push({ severity: 'error', check: 'database', path, message });
  const name = `${table.system}.${table.schema}.${table.name}`;
  if (described === undefined) {
    error(`${at}.name`, `table ${table.schema}.${table.name} does not exist in the ${table.system} database`);
    return problems;
  }
  const columns = new Map(described.columns.map((c) => [c.name, c]));
  const missing = (path: string, names: readonly string[]): void => {
    for (const column of names) if (!columns.has(column)) error(path, `column ${column} does not exist in ${name} (columns: ${[...columns.keys()].join(', ')})`);
  };
  missing(`${at}.key`, table.key);
  if (table.key.every((k) => columns.has(k))) {
    const same = (cols: readonly string[]): boolean => cols.length === table.key.length && cols.every((c) => table.key.includes(c));
    if (!described.uniqueKeys.some((k) => same(k.columns))) {
      const pk = described.uniqueKeys.find((k) => k.primary);
      error(`${at}.key`, `[${table.key.join(', ')}] is neither the primary key nor a unique index of ${name} (primary key: ${pk ? `[${pk.columns.join(', ')}]` : 'none'})`);
    }
  }
  if (table.columns !== undefined) missing(`${at}.columns`, table.columns);
  table.foreignKeys.forEach((fk, j) => missing(`${at}.foreignKeys[${j}].columns`, fk.columns));

  const target = (t: { system: string; schema: string; table: string }): boolean => t.system === table.system && t.schema === table.schema && t.table === table.name;
  for (const rule of mappings.set.reverse.filter((r) => target(r.target))) {
    for (const field of rule.columns) {
      const column = columns.get(field.name);
      if (column === undefined) error(`${rule.path}.columns.${field.name}`, `column ${field.name} does not exist in ${name}`);
      else if (field.type !== undefined && !fits(field.type, column.kind)) {
        error(`${rule.path}.columns.${field.name}.type`, `a ${field.type} does not fit column ${field.name} of ${name} (${column.type})`);
      } else if (field.type === 'date' && column.kind === 'date') {
        problems.push({ severity: 'warning', check: 'database', path: `${rule.path}.columns.${field.name}.type`, message: `type date yields a timestamp, column ${field.name} of ${name} is a date: its time of day would be dropped (convert with an expression, e.g. $substring(x, 0, 10))` });
      }
    }
  }
  for (const rule of mappings.set.replication) {
    if (target(rule.to)) for (const [t] of rule.columns) if (!columns.has(t)) error(`${rule.path}.columns.${t}`, `column ${t} does not exist in ${name}`);
    if (target(rule.from)) for (const [t, s] of rule.columns) if (!columns.has(s)) error(`${rule.path}.columns.${t}`, `source column ${s} does not exist in ${name}`);
  }
  return problems;
}

// Column kinds (libs/legacy-db valueKind) a typed reverse field may be written to. Strings go
// anywhere but binary columns: the database parses them (ISO timestamps, decimal text).
const FITS: Record<FieldType, readonly string[]> = {
  string: ['decimal', 'int', 'bigint', 'float', 'bool', 'timestamptz', 'timestamp', 'date', 'json', 'text'],
  number: ['decimal', 'float', 'text', 'json'],
  integer: ['decimal', 'int', 'bigint', 'float', 'bool', 'text', 'json'],
  boolean: ['bool', 'int', 'text', 'json'],
  date: ['timestamptz', 'timestamp', 'date', 'text'],
  json: ['json', 'text'],
};

function fits(type: FieldType, kind: string): boolean {
  return FITS[type].includes(kind);
}
