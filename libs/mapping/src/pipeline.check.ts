import { ConfigValidationError, loadPipelineFile, type ConfigIssue, type PipelineConfig, type TableConfig } from '@sync/config';
import { loadMappings, type LoadedMappings } from './mapping.config';
import type { MapperRegistry } from './mapper.registry';
import type { FieldRule, MappingSet, TableTarget } from './mapping.types';

/** A problem found by the whole-pipeline check; warnings do not stop an app. */
export interface PipelineProblem extends ConfigIssue {
  readonly severity: 'error' | 'warning';
}

/** The pipeline file and its compiled mappings, both valid. */
export interface CheckedPipeline {
  readonly pipeline: PipelineConfig;
  readonly mappings: LoadedMappings;
  /** Cross-check findings that do not stop an app (e.g. a reverse rule that cannot insert new rows). */
  readonly warnings: readonly PipelineProblem[];
}

/**
 * Every check an app runs on the pipeline file at start-up, for all apps at once: the file itself
 * (@sync/config), the `mappings:`/`replication:` sections, and cross-checks between them (columns
 * and foreign keys the rules name exist on their tables). Every app calls this before it connects
 * anywhere, so a pipeline that one app would refuse stops all of them. Throws ConfigValidationError
 * listing every error.
 */
export function loadCheckedPipeline(path: string, mappers: MapperRegistry): CheckedPipeline {
  const pipeline = loadPipelineFile(path);
  let mappings: LoadedMappings;
  try {
    mappings = loadMappings(pipeline, mappers);
  } catch (err) {
    if (err instanceof ConfigValidationError) throw new ConfigValidationError(`Invalid pipeline file ${path}`, err.issues);
    throw err;
  }
  const problems = crossCheck(pipeline, mappings.set);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new ConfigValidationError(`Invalid pipeline file ${path}`, errors.map(({ path: at, message }) => ({ path: at, message })));
  return { pipeline, mappings, warnings: problems.filter((p) => p.severity === 'warning') };
}

/** Checks between the mappings and the tables they name, beyond what loading the mappings checks. */
export function crossCheck(pipeline: PipelineConfig, set: MappingSet): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  const error = (path: string, message: string): void => void problems.push({ path, message, severity: 'error' });
  const warning = (path: string, message: string): void => void problems.push({ path, message, severity: 'warning' });

  for (const rule of set.reverse) {
    const table = tableOf(pipeline, rule.target);
    if (table === undefined || rule.mapper !== undefined) continue;
    checkColumns(table, rule.columns.map((c) => c.name), `${rule.path}.columns`, error);
    checkReferences(table, rule.references.map((r) => r.name), `${rule.path}.references`, error);
    if (rule.op === 'upsert') checkKeyCovered(table, keysWritten(rule.columns), rule.path, warning);
  }
  for (const rule of set.replication) {
    const from = tableOf(pipeline, rule.from);
    const to = tableOf(pipeline, rule.to);
    if (from === undefined || to === undefined) continue;
    checkColumns(to, rule.columns.map(([target]) => target), `${rule.path}.columns`, error);
    for (const [target, source] of rule.columns) {
      if (from.columns !== undefined && !from.columns.includes(source)) {
        error(`${rule.path}.columns.${target}`, `source column ${source} is not in ${entity(from)}'s columns (${from.columns.join(', ')})`);
      }
    }
    checkReferences(to, rule.references.map(([target]) => target), `${rule.path}.references`, error);
    for (const [target, source] of rule.references) {
      if (!foreignKeyNames(from).includes(source)) {
        error(`${rule.path}.references.${target}`, `${entity(from)} has no foreign key ${source} (foreign keys: ${foreignKeyNames(from).join('; ') || 'none'})`);
      }
    }
    checkKeyCovered(to, rule.columns.map(([target]) => target), rule.path, warning);
  }
  return problems;
}

function tableOf(pipeline: PipelineConfig, target: TableTarget): TableConfig | undefined {
  return pipeline.systems.get(target.system)?.tables.find((t) => t.schema === target.schema && t.name === target.table);
}

function entity(table: TableConfig): string {
  return `${table.system}.${table.schema}.${table.name}`;
}

function keysWritten(columns: readonly FieldRule[]): string[] {
  return columns.map((c) => c.name);
}

function foreignKeyNames(table: TableConfig): string[] {
  return table.foreignKeys.map((fk) => fk.columns.join(','));
}

function checkColumns(table: TableConfig, names: readonly string[], path: string, report: (path: string, message: string) => void): void {
  if (table.columns === undefined) return; // all columns of the table: only the database can tell (sync-ctl validate --db)
  for (const name of names) {
    if (!table.columns.includes(name)) report(`${path}.${name}`, `${entity(table)} has no column ${name} in its columns (${table.columns.join(', ')})`);
  }
}

function checkReferences(table: TableConfig, names: readonly string[], path: string, report: (path: string, message: string) => void): void {
  const known = foreignKeyNames(table);
  for (const name of names) {
    if (!known.includes(name)) report(`${path}.${name}`, `${entity(table)} declares no foreign key on ${name} (foreign keys: ${known.join('; ') || 'none'})`);
  }
}

// A new row written by the suite needs its key: generated by the database, allocated by
// id-translation, or carried in the written columns. Otherwise inserts are dead-lettered at run time
// (updates of rows the key map knows still work, hence a warning).
function checkKeyCovered(table: TableConfig, written: readonly string[], path: string, report: (path: string, message: string) => void): void {
  if (table.generatedKey || table.allocateKeysFrom !== undefined) return;
  const missing = table.key.filter((k) => !written.includes(k));
  if (missing.length === 0) return;
  report(
    path,
    `new rows of ${entity(table)} get no key: key column(s) ${missing.join(', ')} are not written, and the table has neither generatedKey nor allocateKeysFrom (only updates of rows the key map knows can be applied)`,
  );
}
