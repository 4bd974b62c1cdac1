import { isDeepStrictEqual } from 'node:util';
import {
  assertCleanHeaders,
  ContractError,
  Headers,
  legacyOrigin,
  parseJsonValue,
  parseKeyedChangeEvent,
  parseTableTopic,
  parseWritebackRequest,
  Topics,
  type KeyedChangeEvent,
  type Row,
  type WritebackRequest,
} from '@sync/contracts';
import { decodeDomainEvent, encodeDomainEvent, formatLegacyVersion, LEGACY_VERSION_EXTENSION, type DecodedDomainEvent } from './cloud-event.codec';
import { deterministicId, domainEventIdentity } from './deterministic-id';
import type { Bindings, Expression } from './expression';
import { jsonataMessage, NEEDS_JSONATA } from './expression';
import { convertField } from './field-convert';
import type { LoadedMappings } from './mapping.config';
import { MappingError } from './mapping.errors';
import { eventTypeKey, type EventRule, type FieldRule, type ForwardMapping, type MappingSet, type ReplicationRule, type ReverseRule, type TableTarget } from './mapping.types';
import type { MapperRegistry, WritebackDraft } from './mapper.registry';
import type { SchemaRegistry } from './schema.registry';
import type { TransformInput, TransformOutput, TransformResult, TransformSkip } from './transform.types';

/** Source URI of events the suite derives from a legacy table (CloudEvents `source`). */
export function legacySourceUri(table: TableTarget): string {
  return `/legacy-sync/${table.system}/${table.schema}/${table.table}`;
}

/** `dataschema` of a declared event type: names the aggregate, schema version and type. */
export function dataSchemaUri(aggregate: string, version: number, type: string): string {
  return `urn:legacy-sync:schema:${aggregate}:v${version}:${type}`;
}

function keyString(key: Buffer | string | null): string | undefined {
  if (key === null) return undefined;
  return typeof key === 'string' ? key : key.toString('utf8');
}

function valueBuffer(value: Buffer | string | null): Buffer | null {
  if (value === null) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The pure mapping engine: keyed change events to domain events (forward) and to write-back
 * requests of other systems (replication), domain events to write-back requests (reverse).
 * No I/O; outputs carry deterministic ids derived from the input event id and the rule.
 */
export class MappingEngine {
  private readonly set: MappingSet;
  private readonly schemas: SchemaRegistry;
  private readonly forwardBySource = new Map<string, ForwardMapping[]>();
  private readonly replicationBySource = new Map<string, ReplicationRule[]>();
  private readonly reverseByType = new Map<string, ReverseRule[]>();
  /** Per event rule, what every event it produces shares (computed on first use). */
  private readonly constants = new Map<EventRule, { typeKey: string; source: string; dataschema: string }>();

  constructor(loaded: LoadedMappings, private readonly mappers: MapperRegistry) {
    this.set = loaded.set;
    this.schemas = loaded.schemas;
    for (const m of this.set.forward) push(this.forwardBySource, Topics.keyed(m.source), m);
    for (const r of this.set.replication) push(this.replicationBySource, Topics.keyed(r.from), r);
    for (const r of this.set.reverse) push(this.reverseByType, eventTypeKey(r.topic, r.eventType), r);
  }

  /** keyed.* topics the forward and replication rules read. */
  keyedTopics(): string[] {
    return [...new Set([...this.forwardBySource.keys(), ...this.replicationBySource.keys()])].sort();
  }

  /** domain.* topics the reverse rules read. */
  domainInputTopics(): string[] {
    return [...new Set(this.set.reverse.map((r) => r.topic))].sort();
  }

  /** Every topic the transform may write to. */
  outputTopics(): string[] {
    const topics = new Set<string>();
    for (const m of this.set.forward) topics.add(m.topic);
    for (const r of this.set.reverse) topics.add(Topics.writeback(r.target));
    for (const r of this.set.replication) topics.add(Topics.writeback(r.to));
    return [...topics].sort();
  }

  /** Transforms one message by the kind of its topic (keyed.* or domain.*). */
  async transform(input: TransformInput): Promise<TransformResult> {
    if (input.topic.startsWith('keyed.')) return this.fromKeyed(input);
    if (input.topic.startsWith('domain.')) return this.fromDomain(input);
    throw new ContractError(`topic ${input.topic}: domain-transform reads only keyed.* and domain.* topics`);
  }

  /** A keyed change event: domain events for its mappings, write-backs for its replication rules. */
  async fromKeyed(input: TransformInput): Promise<TransformResult> {
    assertCleanHeaders(input.headers);
    const change = parseKeyedChangeEvent(parseJsonValue(valueBuffer(input.value)));
    const ref = parseTableTopic(input.topic);
    if (ref && (ref.system !== change.source.system || ref.table !== change.source.table)) {
      throw new ContractError(`source: ${change.source.system}.${change.source.table} does not match topic ${input.topic}`);
    }
    const eventId = input.headers[Headers.eventId] ?? `${input.topic}@${change.source.position}`;
    // legacy-import marks what the legacy application itself changed; a row the suite wrote on
    // behalf of a new service (or another system) carries that writer's origin instead.
    const origin = input.headers[Headers.origin] ?? legacyOrigin(change.source.system);
    const outputs: TransformOutput[] = [];
    const skipped: TransformSkip[] = [];
    for (const mapping of this.forwardBySource.get(input.topic) ?? []) {
      if (origin !== legacyOrigin(change.source.system)) {
        skipped.push({ rule: mapping.name, reason: 'echo' });
        continue;
      }
      await this.forward(mapping, change, eventId, origin, outputs, skipped);
    }
    for (const rule of this.replicationBySource.get(input.topic) ?? []) {
      if (origin === legacyOrigin(rule.to.system)) skipped.push({ rule: rule.name, reason: 'echo' });
      else this.replicate(rule, change, eventId, origin, outputs, skipped);
    }
    return { outputs, skipped };
  }

  /** A domain event: write-back requests for the reverse rules of its type. */
  async fromDomain(input: TransformInput): Promise<TransformResult> {
    const event = decodeDomainEvent(input);
    const key = eventTypeKey(input.topic, event.type);
    const decl = this.set.eventTypes.get(key);
    if (decl === undefined) throw new ContractError(`ce_type: unknown event type ${event.type} on ${input.topic} (not declared in the mappings)`);
    if (!isRecord(event.data)) throw new ContractError(`${event.type}: data must be a JSON object`);
    const problem = this.schemas.problem(key, event.data);
    if (problem !== undefined) throw new ContractError(`${event.type} does not match its schema (${decl.path}): ${problem}`);
    const subject = event.subject ?? keyString(input.key);
    if (subject === undefined || subject === '') throw new ContractError(`${event.type}: ce_subject (the global id) is missing`);
    const origin = input.headers[Headers.origin] ?? `ce:${event.source}`;
    const occurredAt = event.time ?? new Date(Number(input.timestamp ?? 0)).toISOString();
    const outputs: TransformOutput[] = [];
    const skipped: TransformSkip[] = [];
    const rules = this.reverseByType.get(key) ?? [];
    if (rules.length === 0) skipped.push({ rule: decl.type, reason: 'no-rule' });
    for (const rule of rules) {
      if (origin === legacyOrigin(rule.target.system)) {
        skipped.push({ rule: rule.name, reason: 'echo' });
        continue;
      }
      const drafts = rule.mapper ? await this.customReverse(rule, event, subject, origin) : [await this.reverseDraft(rule, event, subject)];
      drafts.forEach((draft, i) => {
        if (origin === legacyOrigin(draft.target.system)) return void skipped.push({ rule: rule.name, reason: 'echo' });
        const ruleName = drafts.length > 1 ? `${rule.name}#${i}` : rule.name;
        // (ce_source, ce_id) is the command's identity: the inbox, dedup and metrics all key on commandId.
        const identity = domainEventIdentity(event.source, event.id);
        outputs.push(this.writeback(ruleName, rule.path, draft, event.id, origin, occurredAt, basedOnFor(event, draft.target), identity));
      });
    }
    return { outputs, skipped };
  }

  private async forward(mapping: ForwardMapping, change: KeyedChangeEvent, eventId: string, origin: string, outputs: TransformOutput[], skipped: TransformSkip[]): Promise<void> {
    for (const d of await this.forwardDrafts(mapping, change, eventId, origin, skipped)) outputs.push(this.domainEvent(mapping, d.rule, d.ruleName, change, eventId, origin, d.data));
  }

  /**
   * The data of the events one forward mapping makes of a keyed change, by event type, neither
   * schema-checked nor encoded: what `sync-ctl verify` compares with the new side. Same rules as
   * the domain events (ops, conditions, custom mappers, conversions). The first event of a type wins.
   */
  async forwardData(mappingName: string, change: KeyedChangeEvent): Promise<Map<string, Record<string, unknown>>> {
    const mapping = this.set.forward.find((m) => m.name === mappingName);
    if (mapping === undefined) throw new MappingError('mappings', `no forward mapping ${mappingName}`);
    const out = new Map<string, Record<string, unknown>>();
    for (const d of await this.forwardDrafts(mapping, change, `verify:${change.source.position}`, legacyOrigin(change.source.system), [])) if (!out.has(d.rule.type)) out.set(d.rule.type, d.data);
    return out;
  }

  private async forwardDrafts(mapping: ForwardMapping, change: KeyedChangeEvent, eventId: string, origin: string, skipped: TransformSkip[]): Promise<Array<{ rule: EventRule; ruleName: string; data: Record<string, unknown> }>> {
    const out: Array<{ rule: EventRule; ruleName: string; data: Record<string, unknown> }> = [];
    if (mapping.mapper !== undefined) {
      const mapper = this.mappers.get(mapping.mapper);
      let drafts;
      try {
        drafts = (await mapper?.forward?.({ change, mapping: mapping.name, origin, eventId })) ?? [];
      } catch (err) {
        throw new MappingError(`${mapping.path}.mapper`, `${mapping.mapper} failed: ${(err as Error).message}`);
      }
      const counts = new Map<string, number>();
      for (const draft of drafts) {
        const rule = mapping.events.find((e) => e.type === draft.type);
        if (rule === undefined) throw new MappingError(`${mapping.path}.mapper`, `${mapping.mapper} produced undeclared event type ${draft.type}`);
        const n = counts.get(draft.type) ?? 0;
        counts.set(draft.type, n + 1);
        out.push({ rule, ruleName: n === 0 ? rule.name : `${rule.name}#${n}`, data: { ...draft.data } });
      }
      if (drafts.length === 0) skipped.push({ rule: mapping.name, reason: 'no-rule' });
      return out;
    }
    const image = change.op === 'd' ? change.before : change.after;
    let bindings: Bindings | undefined;
    for (const rule of mapping.events) {
      if (!rule.ops.includes(change.op)) continue;
      bindings ??= forwardBindings(change);
      if (rule.when !== undefined && !(await this.evaluate(rule.when, `${rule.path}.when`, image, bindings))) {
        skipped.push({ rule: rule.name, reason: 'condition' });
        continue;
      }
      const data = await this.fields(rule.fields, image, bindings);
      // An update fires only when a field it maps changed; comparing the mapped values (not the
      // raw columns) also ignores changes the mapping normalises away.
      if (change.op === 'u' && change.before !== null && rule.fields.length > 0) {
        const before = await this.fields(rule.fields, change.before, bindings);
        if (sameFields(before, data)) {
          skipped.push({ rule: rule.name, reason: 'unchanged' });
          continue;
        }
      }
      out.push({ rule, ruleName: rule.name, data });
    }
    return out;
  }

  private domainEvent(mapping: ForwardMapping, rule: EventRule, ruleName: string, change: KeyedChangeEvent, eventId: string, origin: string, data: Record<string, unknown>): TransformOutput {
    const constants = this.eventConstants(mapping, rule);
    const problem = this.schemas.problem(constants.typeKey, data);
    if (problem !== undefined) throw new MappingError(rule.path, `${rule.type} does not match its schema: ${problem}`);
    const id = deterministicId(eventId, ruleName);
    let encoded;
    try {
      encoded = encodeDomainEvent({
        id,
        source: constants.source,
        type: rule.type,
        subject: change.globalId,
        time: new Date(change.source.committedAt).toISOString(),
        dataschema: constants.dataschema,
        data,
        extensions: { [LEGACY_VERSION_EXTENSION]: formatLegacyVersion(change.source) },
      });
    } catch (err) {
      throw new MappingError(rule.path, `cannot encode a CloudEvent: ${(err as Error).message}`);
    }
    return {
      topic: mapping.topic,
      key: encoded.key,
      value: encoded.value,
      headers: { ...encoded.headers, [Headers.eventId]: id, [Headers.origin]: origin, [Headers.causationId]: eventId },
      rule: ruleName,
    };
  }

  private eventConstants(mapping: ForwardMapping, rule: EventRule): { typeKey: string; source: string; dataschema: string } {
    let constants = this.constants.get(rule);
    if (constants === undefined) {
      constants = { typeKey: eventTypeKey(mapping.topic, rule.type), source: legacySourceUri(mapping.source), dataschema: dataSchemaUri(mapping.aggregate, mapping.version, rule.type) };
      this.constants.set(rule, constants);
    }
    return constants;
  }

  private replicate(rule: ReplicationRule, change: KeyedChangeEvent, eventId: string, origin: string, outputs: TransformOutput[], skipped: TransformSkip[]): void {
    const draft: WritebackDraft =
      change.op === 'd'
        ? { target: rule.to, op: 'delete', globalId: change.globalId, columns: {} }
        : {
            target: rule.to,
            op: 'upsert',
            globalId: change.globalId,
            columns: pick(change.after, rule.columns),
            references: Object.fromEntries(rule.references.filter(([, src]) => src in change.references).map(([target, src]) => [target, change.references[src] ?? null])),
          };
    if (change.op === 'u' && change.before !== null && isDeepStrictEqual(pick(change.before, rule.columns), draft.columns) && rule.references.length === 0) {
      skipped.push({ rule: rule.name, reason: 'unchanged' });
      return;
    }
    outputs.push(this.writeback(rule.name, rule.path, draft, eventId, origin, new Date(change.source.committedAt).toISOString()));
  }

  private async reverseDraft(rule: ReverseRule, event: DecodedDomainEvent, subject: string): Promise<WritebackDraft> {
    const bindings: Bindings = { subject, id: event.id, type: event.type, source: event.source, time: event.time };
    if (rule.op === 'delete') return { target: rule.target, op: 'delete', globalId: subject, columns: {} };
    // Partial update: a column whose expression yields nothing (the field is absent) is not touched;
    // an explicit null sets it to NULL.
    const columns = await this.fields(rule.columns, event.data, bindings, true);
    const refs = await this.fields(rule.references, event.data, bindings, true);
    for (const [name, id] of Object.entries(refs)) {
      if (id !== null && typeof id !== 'string') throw new MappingError(`${rule.path}.references.${name}`, 'must yield a global id (string) or null');
    }
    return { target: rule.target, op: 'upsert', globalId: subject, columns, references: refs as Record<string, string | null> };
  }

  private async customReverse(rule: ReverseRule, event: DecodedDomainEvent, subject: string, origin: string): Promise<readonly WritebackDraft[]> {
    const mapper = this.mappers.get(rule.mapper ?? '');
    try {
      return (await mapper?.reverse?.({ type: event.type, subject, data: event.data as Record<string, unknown>, id: event.id, source: event.source, origin })) ?? [];
    } catch (err) {
      throw new MappingError(`${rule.path}.mapper`, `${rule.mapper ?? ''} failed: ${(err as Error).message}`);
    }
  }

  private writeback(ruleName: string, path: string, draft: WritebackDraft, causationId: string, origin: string, occurredAt: string, basedOn?: string, identity = causationId): TransformOutput {
    const commandId = deterministicId(identity, ruleName);
    let request: WritebackRequest;
    try {
      request = parseWritebackRequest({
        commandId,
        op: draft.op,
        system: draft.target.system,
        schema: draft.target.schema,
        table: draft.target.table,
        globalId: draft.globalId,
        columns: draft.columns,
        references: draft.references ?? {},
        occurredAt,
        ...(basedOn !== undefined && { basedOn }),
        origin,
        causationId,
      });
    } catch (err) {
      throw new MappingError(path, `the write-back request is invalid: ${(err as Error).message}`);
    }
    return {
      topic: Topics.writeback(draft.target),
      key: request.globalId,
      value: JSON.stringify(request),
      headers: { [Headers.eventId]: commandId, [Headers.origin]: origin, [Headers.causationId]: causationId },
      rule: ruleName,
    };
  }

  /** Evaluates field rules over `input`; `partial` leaves out fields that yield nothing. */
  private async fields(rules: readonly FieldRule[], input: unknown, bindings: Bindings, partial = false): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const rule of rules) {
      // Field paths are read directly; only other expressions (or inputs only JSONata defines) wait for JSONata.
      let value = rule.expr.direct === undefined ? NEEDS_JSONATA : rule.expr.direct(input, bindings);
      if (value === NEEDS_JSONATA) value = await this.evaluate(rule.expr, rule.path, input, bindings);
      if (value === undefined && partial) continue;
      if (value === undefined || value === null) value = rule.default ?? null;
      try {
        out[rule.name] = convertField(value, rule.type);
      } catch (err) {
        throw new MappingError(rule.path, (err as Error).message);
      }
    }
    return out;
  }

  private async evaluate(expr: Expression, path: string, input: unknown, bindings: Bindings): Promise<unknown> {
    try {
      const value = await expr.evaluate(input, bindings);
      // JSONata returns sequences as arrays with extra properties; plain JSON is what goes out.
      return Array.isArray(value) ? JSON.parse(JSON.stringify(value)) as unknown : value;
    } catch (err) {
      throw new MappingError(path, jsonataMessage(err));
    }
  }
}

/** The event's `basedon` position when it names the draft's target table (positions are per table). */
function basedOnFor(event: DecodedDomainEvent, target: TableTarget): string | undefined {
  const v = event.basedOn;
  return v !== undefined && v.system === target.system && v.schema === target.schema && v.table === target.table ? v.position : undefined;
}

/**
 * isDeepStrictEqual of two field records built by the same rules (same keys, same order): flat
 * values compare with Object.is, the same as isDeepStrictEqual does for primitives; objects and
 * arrays (json fields) go to isDeepStrictEqual.
 */
function sameFields(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    const x = a[key];
    const y = b[key];
    if (typeof x === 'object' && x !== null && typeof y === 'object' && y !== null) {
      if (!isDeepStrictEqual(x, y)) return false;
    } else if (!Object.is(x, y) || !(key in b)) {
      return false;
    }
  }
  return true;
}

function forwardBindings(change: KeyedChangeEvent): Bindings {
  return { globalId: change.globalId, references: change.references, op: change.op, before: change.before, after: change.after, source: change.source };
}

function pick(row: Row | null, columns: ReadonlyArray<readonly [string, string]>): Row {
  const out: Record<string, unknown> = {};
  if (row === null) return out;
  for (const [target, source] of columns) if (source in row) out[target] = row[source];
  return out;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
