import { ConfigValidationError, isSecretRef, quoteIdent, type ConfigIssue, type PipelineConfig, type SecretRef, type TableConfig } from '@sync/config';
import type { MappingSet } from '@sync/mapping';

/** One new-side column compared with one field of one event type of the forward mapping. */
export interface VerifyField {
  /** `<table>.<column>` on the new side: the name used in reports. */
  readonly name: string;
  readonly table: string;
  readonly column: string;
  readonly eventType: string;
  readonly eventField: string;
}

/** A legacy table and how the new side keeps the same entity. */
export interface VerifyEntity {
  /** Name in the `verify.entities` section, e.g. `users`. */
  readonly name: string;
  /** `<system>.<schema>.<table>`. */
  readonly entity: string;
  readonly table: TableConfig;
  /** The forward mapping whose events define the compared fields. */
  readonly mapping: string;
  /** New-side tables → their global-id column; the first holds one row per entity, the others at most one each. */
  readonly tables: ReadonlyArray<{ readonly table: string; readonly idColumn: string }>;
  readonly fields: readonly VerifyField[];
  /** The legacy column holding each row's last change time, used by `verify --since` (optional). */
  readonly changedColumn?: string;
}

export interface VerifyConfig {
  readonly connection: SecretRef;
  /** Accepted for compatibility (verify once bisected 2^rangeBits id ranges); no longer used. */
  readonly rangeBits: number;
  readonly entities: readonly VerifyEntity[];
}

const DEFAULT_RANGE_BITS = 10;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads the pipeline's `verify:` section (docs/verify.md) against its systems and mappings.
 * Throws ConfigValidationError with one line per problem, each naming its path.
 */
export function loadVerifyConfig(pipeline: PipelineConfig, mappings: MappingSet): VerifyConfig {
  const issues: ConfigIssue[] = [];
  const issue = (path: string, message: string): void => void issues.push({ path, message });
  const raw = pipeline.verify;
  const newSide = raw['newSide'];
  let connection: SecretRef | undefined;
  if (!isRecord(newSide) || !isRecord(newSide['connection']) || !isSecretRef(newSide['connection']['url'])) {
    issue('verify.newSide.connection.url', 'must be a secret reference ({ env: NAME } or { file: PATH }) to the new side\'s PostgreSQL URL');
  } else {
    connection = newSide['connection']['url'];
  }
  const bits = raw['rangeBits'] ?? DEFAULT_RANGE_BITS;
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 0 || bits > 20) issue('verify.rangeBits', 'must be an integer from 0 to 20');
  const entities: VerifyEntity[] = [];
  const rawEntities = raw['entities'];
  if (!isRecord(rawEntities) || Object.keys(rawEntities).length === 0) issue('verify.entities', 'must name at least one entity');
  else for (const [name, e] of Object.entries(rawEntities)) {
    const entity = readEntity(pipeline, mappings, name, e, `verify.entities.${name}`, issue);
    if (entity) entities.push(entity);
  }
  if (issues.length > 0 || connection === undefined) throw new ConfigValidationError('Invalid verify section in the pipeline file', issues);
  return { connection, rangeBits: bits as number, entities };
}

function readEntity(pipeline: PipelineConfig, mappings: MappingSet, name: string, raw: unknown, path: string, issue: (path: string, message: string) => void): VerifyEntity | undefined {
  if (!isRecord(raw)) return void issue(path, 'must be a mapping with source, mapping, tables and fields');
  const known = ['source', 'mapping', 'tables', 'fields', 'changedColumn'];
  for (const k of Object.keys(raw)) if (!known.includes(k)) issue(`${path}.${k}`, `unknown setting (known: ${known.join(', ')})`);
  const source = raw['source'];
  if (!isRecord(source) || typeof source['system'] !== 'string' || typeof source['table'] !== 'string') return void issue(`${path}.source`, 'must be { system, table[, schema] }');
  const system = pipeline.systems.get(source['system']);
  if (!system) return void issue(`${path}.source.system`, `no system ${source['system']} in the pipeline`);
  const table = system.tables.find((t) => t.name === source['table'] && (source['schema'] === undefined || t.schema === source['schema']));
  if (!table) return void issue(`${path}.source.table`, `system ${system.name} declares no table ${String(source['table'])}`);
  const candidates = mappings.forward.filter((m) => m.source.system === system.name && m.source.schema === table.schema && m.source.table === table.name);
  const mappingName = typeof raw['mapping'] === 'string' ? raw['mapping'] : candidates.length === 1 ? candidates[0]!.name : undefined;
  const mapping = candidates.find((m) => m.name === mappingName);
  if (!mapping) return void issue(`${path}.mapping`, `name the forward mapping of ${system.name}.${table.schema}.${table.name} (mappings of it: ${candidates.map((m) => m.name).join(', ') || 'none'})`);
  const tables: Array<{ table: string; idColumn: string }> = [];
  if (!isRecord(raw['tables']) || Object.keys(raw['tables']).length === 0) issue(`${path}.tables`, 'must map each new-side table to its global-id column, the main table first');
  else for (const [t, id] of Object.entries(raw['tables'])) {
    if (typeof id !== 'string' || id === '') issue(`${path}.tables.${t}`, 'must be the name of the global-id column');
    else if (identifierProblem(t) ?? identifierProblem(id)) issue(`${path}.tables.${t}`, (identifierProblem(t) ?? identifierProblem(id))!);
    else tables.push({ table: t, idColumn: id });
  }
  const fields: VerifyField[] = [];
  if (!isRecord(raw['fields']) || Object.keys(raw['fields']).length === 0) issue(`${path}.fields`, 'must map new-side columns (<table>.<column>) to event fields (<EventType>.<field>)');
  else for (const [column, field] of Object.entries(raw['fields'])) {
    const at = `${path}.fields.${column}`;
    const [t, c, ...restColumn] = column.split('.');
    const [type, f, ...restField] = typeof field === 'string' ? field.split('.') : [];
    if (!t || !c || restColumn.length > 0 || !tables.some((x) => x.table === t)) issue(at, `must be <table>.<column> of a table listed in ${path}.tables`);
    else if (identifierProblem(c)) issue(at, identifierProblem(c)!);
    else if (!type || !f || restField.length > 0) issue(at, 'must be <EventType>.<field>');
    else {
      const rule = mapping.events.find((e) => e.type === type);
      if (!rule) issue(at, `mapping ${mapping.name} has no event ${type} (events: ${mapping.events.map((e) => e.type).join(', ')})`);
      else if (mapping.mapper === undefined && !rule.fields.some((x) => x.name === f)) issue(at, `event ${type} of mapping ${mapping.name} has no field ${f}`);
      else fields.push({ name: column, table: t, column: c, eventType: type, eventField: f });
    }
  }
  const changed = raw['changedColumn'];
  if (changed !== undefined && (typeof changed !== 'string' || changed === '')) issue(`${path}.changedColumn`, 'must be the name of a legacy column holding the row\'s last change time');
  return { name, entity: `${system.name}.${table.schema}.${table.name}`, table, mapping: mapping.name, tables, fields, ...(typeof changed === 'string' && changed !== '' ? { changedColumn: changed } : {}) };
}

function identifierProblem(name: string): string | undefined {
  try {
    quoteIdent('postgres', name);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The entity a command-line name selects: its verify name or `<system>.<schema>.<table>`. */
export function selectEntity(config: VerifyConfig, name: string): VerifyEntity | undefined {
  return config.entities.find((e) => e.name === name || e.entity === name);
}
