import { createHash } from 'node:crypto';
import type { Dialect } from './identifier';

// The one derivation of every name the suite builds from a table's schema and name. The config
// validator (collisions, pipeline.rules.ts) and the DDL generator (libs/legacy-db) both call it,
// so what is checked at load is exactly what is created.

/**
 * Longest derived object name, in bytes. PostgreSQL truncates names past 63 bytes (SQL Server
 * allows 128 characters); a longer name is shortened to this length with a hash suffix.
 */
export const MAX_DERIVED_NAME_BYTES = 60;

/**
 * Shortens `name` to MAX_DERIVED_NAME_BYTES: the first 51 bytes, `_` and 8 hex digits of the
 * SHA-256 of the whole name, so two long names sharing a prefix still differ (and should the
 * hashes ever meet, the load-time collision check refuses the pipeline).
 */
export function fitName(name: string): string {
  if (Buffer.byteLength(name) <= MAX_DERIVED_NAME_BYTES) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  // Derived names are ASCII (see baseName); an explicit changelogTable is an identifier, also ASCII.
  return `${Buffer.from(name).subarray(0, MAX_DERIVED_NAME_BYTES - 9).toString()}_${hash}`;
}

/** `<schema>_<table>` with every character outside [A-Za-z0-9_] replaced by `_`. */
function baseName(table: DerivationInput): string {
  return `${table.schema}_${table.name}`.replace(/[^A-Za-z0-9_]/g, '_');
}

/** What the derivation reads of a table (a TableConfig fits). */
export interface DerivationInput {
  readonly schema: string;
  readonly name: string;
  readonly capture: { readonly mode: string; readonly changelogTable?: string | undefined };
}

/** Names of the objects the trigger capture mode generates for one table, in the sync schema. */
export interface ChangelogNames {
  readonly table: string;
  readonly captureFunction: string;
  /** PostgreSQL statement-level capture function (capture.triggerLevel: statement). */
  readonly statementFunction: string;
  readonly trigger: string;
  /** PostgreSQL statement-level triggers, one per event (transition tables need one event each). */
  readonly statementTriggers: { readonly insert: string; readonly update: string; readonly delete: string; readonly keyMove: string };
  readonly txIndex: string;
  /** Partial index of legacy changes by key, for the write-back's conflict check. */
  readonly conflictIndex: string;
}

export function changelogNames(table: DerivationInput): ChangelogNames {
  const b = baseName(table);
  const explicit = table.capture.mode === 'trigger' ? table.capture.changelogTable : undefined;
  const changelog = explicit ?? fitName(`${b}_changes`);
  return {
    table: changelog,
    captureFunction: fitName(`${b}_capture`),
    statementFunction: fitName(`${b}_capture_stmt`),
    trigger: 'sync_capture',
    statementTriggers: {
      insert: 'sync_capture_insert',
      update: 'sync_capture_update',
      delete: 'sync_capture_delete',
      keyMove: 'sync_capture_key_move',
    },
    txIndex: fitName(`${changelog}_tx`),
    conflictIndex: fitName(`${changelog}_legacy_key`),
  };
}

/**
 * One segment of a Kafka topic name (`<prefix>.<system>.<schema>.<table>`): whitespace runs and
 * `$` become `_` (Kafka allows [a-zA-Z0-9._-]; dots separate segments). Undefined when the value
 * still has characters a topic cannot hold.
 */
export function topicSegment(value: string): string | undefined {
  const cleaned = value.replace(/\s+/g, '_');
  return /^[A-Za-z0-9_$-]+$/.test(cleaned) ? cleaned.replace(/\$/g, '_') : undefined;
}

/** Kind of a derived name; names of one kind share a namespace. */
export type DerivedNameKind = 'sync-schema relation' | 'sync-schema function' | 'topic' | 'metric label';

export interface DerivedName {
  readonly kind: DerivedNameKind;
  /** What the name is for, e.g. "changelog table". */
  readonly role: string;
  readonly name: string;
}

/**
 * Every name derived from one table that must be unique within its system: the trigger mode's
 * changelog table, its indexes (PostgreSQL indexes share the table namespace) and capture function
 * in the sync schema; the table's part of its topic names (legacy/keyed/writeback/resolved.<system>.…);
 * the `system.schema.table` entity label of logs and metrics.
 */
export function derivedNames(system: string, table: DerivationInput): DerivedName[] {
  const names: DerivedName[] = [];
  if (table.capture.mode === 'trigger') {
    const c = changelogNames(table);
    names.push(
      { kind: 'sync-schema relation', role: 'changelog table', name: c.table },
      { kind: 'sync-schema relation', role: 'changelog tx index', name: c.txIndex },
      { kind: 'sync-schema relation', role: 'changelog conflict index', name: c.conflictIndex },
      { kind: 'sync-schema function', role: 'capture function', name: c.captureFunction },
      { kind: 'sync-schema function', role: 'statement capture function', name: c.statementFunction },
    );
  }
  const schema = topicSegment(table.schema);
  const name = topicSegment(table.name);
  if (schema !== undefined && name !== undefined) names.push({ kind: 'topic', role: 'topic suffix', name: `${system}.${schema}.${name}` });
  names.push({ kind: 'metric label', role: 'entity label', name: `${system}.${table.schema}.${table.name}` });
  return names;
}

/**
 * The key under which two derived names clash: SQL Server's default collations compare names
 * case-insensitively, PostgreSQL compares quoted names exactly; topic names are case-sensitive.
 */
export function derivedNameKey(kind: DerivedNameKind, name: string, dialect: Dialect): string {
  return dialect === 'mssql' && kind !== 'topic' ? `${kind}\u0000${name.toLowerCase()}` : `${kind}\u0000${name}`;
}
