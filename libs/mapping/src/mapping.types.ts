import type { ChangeOp } from '@sync/contracts';
import type { Expression } from './expression';

/** A legacy table as the mappings name it, resolved against the pipeline's systems. */
export interface TableTarget {
  readonly system: string;
  readonly schema: string;
  readonly table: string;
}

export const FIELD_TYPES = ['string', 'number', 'integer', 'boolean', 'date', 'json'] as const;
/** Null-preserving conversion applied to a field's value after its expression ran. */
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldRule {
  readonly name: string;
  /** Config path of the field, used in error messages. */
  readonly path: string;
  readonly expr: Expression;
  readonly type?: FieldType;
  readonly default?: unknown;
}

/** One business event a source row can produce. */
export interface EventRule {
  /** `<mapping>.<type>`: stable name used for deterministic ids and metrics. */
  readonly name: string;
  readonly path: string;
  readonly type: string;
  readonly ops: readonly ChangeOp[];
  readonly fields: readonly FieldRule[];
  /** Extra condition on the row image; the event fires only when it is truthy. */
  readonly when?: Expression;
}

export interface ForwardMapping {
  readonly name: string;
  readonly path: string;
  readonly source: TableTarget;
  readonly aggregate: string;
  readonly version: number;
  readonly topic: string;
  readonly events: readonly EventRule[];
  /** Custom mapper replacing the declarative events (they then only declare types and schemas). */
  readonly mapper?: string;
}

export interface ReverseRule {
  /** `<mapping>.reverse[<i>]`, used for deterministic ids and metrics. */
  readonly name: string;
  readonly path: string;
  readonly aggregate: string;
  readonly version: number;
  readonly topic: string;
  readonly eventType: string;
  readonly target: TableTarget;
  readonly op: 'upsert' | 'delete';
  readonly columns: readonly FieldRule[];
  /** Foreign-key name (its columns joined with ",") to an expression giving the target's global id. */
  readonly references: readonly FieldRule[];
  readonly mapper?: string;
}

export interface ReplicationRule {
  readonly name: string;
  readonly path: string;
  readonly from: TableTarget;
  readonly to: TableTarget;
  /** Target column to source column. */
  readonly columns: ReadonlyArray<readonly [string, string]>;
  /** Target foreign-key name to source foreign-key name. */
  readonly references: ReadonlyArray<readonly [string, string]>;
}

/** A JSON Schema per declared event type, by domain topic. */
export interface EventTypeDecl {
  readonly topic: string;
  readonly aggregate: string;
  readonly version: number;
  readonly type: string;
  readonly schema?: Readonly<Record<string, unknown>>;
  readonly path: string;
}

/** Every mapping of the pipeline file, validated and compiled. */
export interface MappingSet {
  readonly forward: readonly ForwardMapping[];
  readonly reverse: readonly ReverseRule[];
  readonly replication: readonly ReplicationRule[];
  /** `<topic>|<type>` to its declaration. */
  readonly eventTypes: ReadonlyMap<string, EventTypeDecl>;
}

export function eventTypeKey(topic: string, type: string): string {
  return `${topic}|${type}`;
}
