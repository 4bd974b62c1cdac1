import { ConfigValidationError, type ConfigIssue, type PipelineConfig } from '@sync/config';
import { Topics, type ChangeOp } from '@sync/contracts';
import { compileExpression, type Expression } from './expression';
import type { MapperRegistry } from './mapper.registry';
import {
  eventTypeKey,
  FIELD_TYPES,
  type EventRule,
  type EventTypeDecl,
  type FieldRule,
  type FieldType,
  type ForwardMapping,
  type MappingSet,
  type ReplicationRule,
  type ReverseRule,
  type TableTarget,
} from './mapping.types';
import { SchemaRegistry } from './schema.registry';

/** The fields each part of the mappings may have (the JSON Schema in mapping.json-schema.ts states their types). */
export const MAPPING_KEYS = {
  mapping: ['source', 'aggregate', 'version', 'events', 'reverse', 'schemas', 'mapper'],
  event: ['type', 'on', 'when', 'fields', 'schema'],
  reverse: ['event', 'target', 'op', 'columns', 'references', 'mapper'],
  replication: ['name', 'from', 'to', 'columns', 'references'],
  field: ['expr', 'type', 'default'],
  table: ['system', 'schema', 'table'],
} as const satisfies Record<string, readonly string[]>;

export const OPS: readonly ChangeOp[] = ['c', 'u', 'd', 'r'];
const DEFAULT_OPS: readonly ChangeOp[] = ['c', 'u', 'r'];
export const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;

type Raw = Record<string, unknown>;

function isRecord(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The compiled mappings plus the schemas their events are checked against. */
export interface LoadedMappings {
  readonly set: MappingSet;
  readonly schemas: SchemaRegistry;
}

/**
 * Validates and compiles the `mappings:` and `replication:` sections of the pipeline file.
 * Throws ConfigValidationError listing every problem, each naming its path
 * (`mappings.users.events[1].fields.city: ...`).
 */
export function loadMappings(pipeline: PipelineConfig, mappers: MapperRegistry): LoadedMappings {
  const loader = new Loader(pipeline, mappers);
  const set = loader.load();
  if (loader.issues.length > 0) throw new ConfigValidationError('Invalid mappings in the pipeline file', loader.issues);
  return { set, schemas: loader.schemas };
}

class Loader {
  readonly issues: ConfigIssue[] = [];
  readonly schemas = new SchemaRegistry();
  private readonly eventTypes = new Map<string, EventTypeDecl>();

  constructor(private readonly pipeline: PipelineConfig, private readonly mappers: MapperRegistry) {}

  load(): MappingSet {
    const forward: ForwardMapping[] = [];
    const reverse: ReverseRule[] = [];
    for (const [name, raw] of Object.entries(this.pipeline.mappings)) {
      this.mapping(name, raw, forward, reverse);
    }
    const replication = this.pipeline.replication.flatMap((raw, i) => this.replicationRule(raw, `replication[${i}]`) ?? []);
    this.checkUnique(replication.map((r) => [r.name, r.path] as const), 'replication rule name');
    return { forward, reverse, replication, eventTypes: this.eventTypes };
  }

  private issue(path: string, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  private checkKeys(raw: Raw, path: string, allowed: readonly string[]): void {
    for (const key of Object.keys(raw)) {
      if (!allowed.includes(key)) this.issue(`${path}.${key}`, `is not a known field (known fields: ${allowed.join(', ')})`);
    }
  }

  private mapping(name: string, raw: unknown, forward: ForwardMapping[], reverse: ReverseRule[]): void {
    const path = `mappings.${name}`;
    if (!isRecord(raw)) return void this.issue(path, 'must be a mapping with aggregate, source and events');
    this.checkKeys(raw, path, MAPPING_KEYS.mapping);
    const aggregate = this.string(raw['aggregate'], `${path}.aggregate`);
    const version = raw['version'] === undefined ? 1 : raw['version'];
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
      return void this.issue(`${path}.version`, 'must be a positive integer');
    }
    if (aggregate === undefined) return;
    let topic: string;
    try {
      topic = Topics.domain(aggregate, version);
    } catch (err) {
      return void this.issue(`${path}.aggregate`, (err as Error).message);
    }
    const mapper = raw['mapper'] === undefined ? undefined : this.mapperName(raw['mapper'], `${path}.mapper`, 'forward');

    const schemas = raw['schemas'];
    if (schemas !== undefined) {
      if (!isRecord(schemas)) this.issue(`${path}.schemas`, 'must be a mapping of event type to JSON Schema');
      else for (const [type, schema] of Object.entries(schemas)) this.declareType(topic, aggregate, version, type, schema, `${path}.schemas.${type}`);
    }

    const rawEvents = raw['events'] ?? [];
    const events: EventRule[] = [];
    if (!Array.isArray(rawEvents)) this.issue(`${path}.events`, 'must be a list');
    else rawEvents.forEach((e: unknown, i) => {
      const rule = this.eventRule(name, e, `${path}.events[${i}]`, topic, aggregate, version, mapper !== undefined);
      if (rule) events.push(rule);
    });

    if (events.length > 0 || mapper !== undefined) {
      const source = this.table(raw['source'], `${path}.source`);
      if (source) forward.push({ name, path, source, aggregate, version, topic, events, ...(mapper ? { mapper } : {}) });
    } else if (raw['source'] !== undefined) {
      this.issue(`${path}.events`, 'a mapping with a source needs at least one event (or a mapper)');
    }

    const rawReverse = raw['reverse'] ?? [];
    if (!Array.isArray(rawReverse)) this.issue(`${path}.reverse`, 'must be a list');
    else rawReverse.forEach((r: unknown, i) => {
      const rule = this.reverseRule(name, r, `${path}.reverse[${i}]`, topic, aggregate, version);
      if (rule) reverse.push(rule);
    });
  }

  private eventRule(mapping: string, raw: unknown, path: string, topic: string, aggregate: string, version: number, custom: boolean): EventRule | undefined {
    if (!isRecord(raw)) return this.issue(path, 'must be a mapping with type and fields');
    this.checkKeys(raw, path, MAPPING_KEYS.event);
    const type = this.eventType(raw['type'], `${path}.type`);
    const ops = this.ops(raw['on'], `${path}.on`);
    const when = raw['when'] === undefined ? undefined : this.expression(raw['when'], `${path}.when`);
    const fields = raw['fields'] === undefined ? [] : this.fields(raw['fields'], `${path}.fields`);
    if (type === undefined || ops === undefined || fields === undefined) return undefined;
    if (custom && raw['fields'] !== undefined) this.issue(`${path}.fields`, 'a mapping with a mapper declares event types and schemas only');
    this.declareType(topic, aggregate, version, type, raw['schema'], `${path}.schema`);
    return { name: `${mapping}.${type}`, path, type, ops, fields, ...(when ? { when } : {}) };
  }

  private reverseRule(mapping: string, raw: unknown, path: string, topic: string, aggregate: string, version: number): ReverseRule | undefined {
    if (!isRecord(raw)) return this.issue(path, 'must be a mapping with event, target and columns');
    this.checkKeys(raw, path, MAPPING_KEYS.reverse);
    const eventType = this.eventType(raw['event'], `${path}.event`);
    const target = this.table(raw['target'], `${path}.target`);
    const op = raw['op'] ?? 'upsert';
    if (op !== 'upsert' && op !== 'delete') this.issue(`${path}.op`, 'must be upsert or delete');
    const mapper = raw['mapper'] === undefined ? undefined : this.mapperName(raw['mapper'], `${path}.mapper`, 'reverse');
    const columns = raw['columns'] === undefined ? [] : this.fields(raw['columns'], `${path}.columns`);
    const references = raw['references'] === undefined ? [] : this.fields(raw['references'], `${path}.references`);
    if (eventType === undefined || target === undefined || columns === undefined || references === undefined) return undefined;
    if (op === 'upsert' && columns.length === 0 && references.length === 0 && mapper === undefined) {
      return this.issue(`${path}.columns`, 'an upsert needs at least one column or reference');
    }
    if (!this.eventTypes.has(eventTypeKey(topic, eventType))) this.declareType(topic, aggregate, version, eventType, undefined, `${path}.event`);
    const name = `${mapping}.reverse[${path.slice(path.lastIndexOf('[') + 1, -1)}]:${eventType}->${target.system}.${target.schema}.${target.table}`;
    return { name, path, aggregate, version, topic, eventType, target, op: op as 'upsert' | 'delete', columns, references, ...(mapper ? { mapper } : {}) };
  }

  private replicationRule(raw: unknown, path: string): ReplicationRule | undefined {
    if (!isRecord(raw)) return this.issue(path, 'must be a mapping with name, from, to and columns');
    this.checkKeys(raw, path, MAPPING_KEYS.replication);
    const name = this.string(raw['name'], `${path}.name`);
    const from = this.table(raw['from'], `${path}.from`);
    const to = this.table(raw['to'], `${path}.to`);
    const columns = this.renames(raw['columns'], `${path}.columns`, true);
    const references = raw['references'] === undefined ? [] : this.renames(raw['references'], `${path}.references`, false);
    if (name === undefined || from === undefined || to === undefined || columns === undefined || references === undefined) return undefined;
    if (from.system === to.system) return this.issue(`${path}.to`, 'must be a table of another system than from');
    return { name: `replication.${name}`, path, from, to, columns, references };
  }

  private renames(raw: unknown, path: string, required: boolean): Array<readonly [string, string]> | undefined {
    if (!isRecord(raw) || (required && Object.keys(raw).length === 0)) return this.issue(path, 'must be a non-empty mapping of target name to source name');
    const out: Array<readonly [string, string]> = [];
    for (const [target, source] of Object.entries(raw)) {
      if (typeof source !== 'string' || source.length === 0) this.issue(`${path}.${target}`, 'must be the source column name');
      else out.push([target, source]);
    }
    return out;
  }

  private declareType(topic: string, aggregate: string, version: number, type: string, schema: unknown, path: string): void {
    if (!EVENT_TYPE.test(type)) return void this.issue(path, `event type ${JSON.stringify(type)} must start with a letter and use letters, digits, _ . -`);
    if (schema !== undefined && !isRecord(schema)) return void this.issue(path, 'must be a JSON Schema object');
    const key = eventTypeKey(topic, type);
    const existing = this.eventTypes.get(key);
    if (existing !== undefined) {
      if (schema === undefined) return;
      if (existing.schema !== undefined && JSON.stringify(existing.schema) !== JSON.stringify(schema)) {
        return void this.issue(path, `${type} on ${topic} already has a different schema at ${existing.path}`);
      }
    }
    if (schema !== undefined) {
      try {
        this.schemas.add(key, schema);
      } catch (err) {
        return void this.issue(path, `is not a valid JSON Schema: ${(err as Error).message}`);
      }
    }
    this.eventTypes.set(key, { topic, aggregate, version, type, path, ...(schema !== undefined ? { schema } : existing?.schema ? { schema: existing.schema } : {}) });
  }

  private fields(raw: unknown, path: string): FieldRule[] | undefined {
    if (!isRecord(raw)) return this.issue(path, 'must be a mapping of name to JSONata expression');
    const out: FieldRule[] = [];
    let ok = true;
    for (const [name, spec] of Object.entries(raw)) {
      const rule = this.field(name, spec, `${path}.${name}`);
      if (rule) out.push(rule);
      else ok = false;
    }
    return ok ? out : undefined;
  }

  private field(name: string, spec: unknown, path: string): FieldRule | undefined {
    if (typeof spec === 'string') {
      const expr = this.expression(spec, path);
      return expr ? { name, path, expr } : undefined;
    }
    if (!isRecord(spec)) return this.issue(path, 'must be a JSONata expression or { expr, type, default }');
    this.checkKeys(spec, path, MAPPING_KEYS.field);
    const expr = this.expression(spec['expr'], `${path}.expr`);
    const type = spec['type'];
    if (type !== undefined && !FIELD_TYPES.includes(type as FieldType)) {
      return this.issue(`${path}.type`, `must be one of ${FIELD_TYPES.join(', ')}`);
    }
    if (!expr) return undefined;
    return { name, path, expr, ...(type !== undefined ? { type: type as FieldType } : {}), ...('default' in spec ? { default: spec['default'] } : {}) };
  }

  private expression(raw: unknown, path: string): Expression | undefined {
    if (typeof raw !== 'string' || raw.trim() === '') return this.issue(path, 'must be a JSONata expression (a string)');
    try {
      return compileExpression(raw);
    } catch (err) {
      return this.issue(path, (err as Error).message);
    }
  }

  private ops(raw: unknown, path: string): ChangeOp[] | undefined {
    if (raw === undefined) return [...DEFAULT_OPS];
    if (!Array.isArray(raw) || raw.length === 0 || !raw.every((op) => OPS.includes(op as ChangeOp))) {
      return this.issue(path, `must be a non-empty list of ${OPS.join(', ')}`);
    }
    return raw as ChangeOp[];
  }

  private eventType(raw: unknown, path: string): string | undefined {
    if (typeof raw !== 'string' || !EVENT_TYPE.test(raw)) return this.issue(path, 'must be an event type name (a letter, then letters, digits, _ . -)');
    return raw;
  }

  private string(raw: unknown, path: string): string | undefined {
    if (typeof raw !== 'string' || raw.length === 0) return this.issue(path, 'must be a non-empty string');
    return raw;
  }

  private mapperName(raw: unknown, path: string, direction: 'forward' | 'reverse'): string | undefined {
    if (typeof raw !== 'string') return this.issue(path, 'must be the name of a registered mapper class');
    const mapper = this.mappers.get(raw);
    if (mapper === undefined) {
      const known = this.mappers.names();
      return this.issue(path, `no mapper named "${raw}" is registered (registered: ${known.length ? known.join(', ') : 'none'})`);
    }
    if (typeof mapper[direction] !== 'function') return this.issue(path, `mapper "${raw}" has no ${direction}() method`);
    return raw;
  }

  /** Resolves `{ system, table, schema? }` against the systems of the pipeline file. */
  private table(raw: unknown, path: string): TableTarget | undefined {
    if (!isRecord(raw)) return this.issue(path, 'must be { system, table } (schema optional)');
    this.checkKeys(raw, path, MAPPING_KEYS.table);
    const systemName = this.string(raw['system'], `${path}.system`);
    const tableName = this.string(raw['table'], `${path}.table`);
    if (systemName === undefined || tableName === undefined) return undefined;
    const system = this.pipeline.systems.get(systemName);
    if (system === undefined) return this.issue(`${path}.system`, `no system named "${systemName}" in systems (known: ${[...this.pipeline.systems.keys()].join(', ')})`);
    const schema = raw['schema'];
    const table = system.tables.find((t) => t.name === tableName && (schema === undefined || t.schema === schema));
    if (table === undefined) {
      return this.issue(`${path}.table`, `system ${systemName} declares no table ${schema === undefined ? '' : `${String(schema)}.`}${tableName}`);
    }
    return { system: systemName, schema: table.schema, table: table.name };
  }

  private checkUnique(entries: ReadonlyArray<readonly [string, string]>, what: string): void {
    const seen = new Map<string, string>();
    for (const [name, path] of entries) {
      const first = seen.get(name);
      if (first !== undefined) this.issue(path, `duplicate ${what} (first at ${first})`);
      else seen.set(name, path);
    }
  }
}
