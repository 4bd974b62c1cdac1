import { derivedNameKey, derivedNames, type DerivationInput } from './derived-names';
import { defaultSchema, DIALECTS, identifierProblem, type Dialect } from './identifier';
import {
  CaptureSchema,
  ConnectionSchema,
  ForeignKeySchema,
  KafkaSchema,
  ReferenceSchema,
  SystemSchema,
  TableSchema,
  TlsSchema,
  TopicDefaultsSchema,
} from './pipeline.schema';
import { CAPTURE_MODES, type CaptureMode } from './pipeline.types';
import type { PathSegments } from './validation-error';
import type { LocatedIssue } from './validation-issues';

// Checks spanning several fields or systems. They run even when class-validator found problems, so
// one run reports everything; each rule therefore re-checks the types it relies on.

export const MODE_FIELDS: Record<CaptureMode, readonly (keyof CaptureSchema)[]> = {
  trigger: ['changelogTable', 'retentionMs', 'notify', 'triggerLevel'],
  changelog: ['changelogTable', 'positionColumns', 'operationColumn', 'operationValues', 'keysOnly', 'changelogSchema', 'watermarkColumn', 'keyColumns', 'rowImageColumn'],
  cdc: ['captureInstance', 'resnapshotOnGap'],
  logical: [],
};
const MODE_SPECIFIC_FIELDS = [...new Set(Object.values(MODE_FIELDS).flat())];

export function checkPipelineRules(
  systems: ReadonlyMap<string, SystemSchema>,
  kafka: KafkaSchema | undefined,
): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  if (kafka instanceof KafkaSchema) {
    issues.push(...tlsPairRule(kafka.tls, ['kafka', 'tls']));
    issues.push(...topicReplicationRule(kafka.topics));
  }
  for (const [name, system] of systems) {
    issues.push(...systemRules(name, system, systems));
  }
  return issues;
}

function systemRules(name: string, system: SystemSchema, systems: ReadonlyMap<string, SystemSchema>): LocatedIssue[] {
  const at: PathSegments = ['systems', name];
  const dialect = dialectOf(system);
  const issues: LocatedIssue[] = [];
  if (system.connection instanceof ConnectionSchema) {
    issues.push(...connectionRules(system.connection, [...at, 'connection']));
  }
  if (dialect === 'postgres') {
    issues.push(...postgresLengthRule(system.syncSchema, [...at, 'syncSchema']));
  }
  const seen = new Map<string, number>();
  tablesOf(system).forEach(([table, index]) => {
    const tableAt = [...at, 'tables', index];
    const id = dialect === undefined ? undefined : tableId(table.schema, table.name, dialect);
    if (id !== undefined) {
      const first = seen.get(comparable(id, dialect));
      if (first === undefined) {
        seen.set(comparable(id, dialect), index);
      } else {
        issues.push({ at: [...tableAt, 'name'], message: `duplicates table ${id} declared at tables[${first}]` });
      }
    }
    issues.push(...tableRules(table, tableAt, name, dialect, systems));
  });
  if (dialect !== undefined) issues.push(...derivedNameCollisions(name, system, at, dialect));
  return issues;
}

/**
 * Two tables whose derived names meet (`sales_eu.orders` and `sales.eu_orders` both derive the
 * changelog `sales_eu_orders_changes`; `User Name` and `User_Name` one topic) would share a
 * changelog or a topic: the second is refused, naming both tables and the name.
 */
function derivedNameCollisions(systemName: string, system: SystemSchema, at: PathSegments, dialect: Dialect): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const owners = new Map<string, { index: number; ref: string; role: string }>();
  const tables = new Set<string>();
  for (const [table, index] of tablesOf(system)) {
    const input = derivationInput(table, dialect);
    if (input === undefined) continue;
    const ref = `${input.schema}.${input.name}`;
    // A table declared twice is reported as a duplicate already.
    if (tables.has(comparable(ref, dialect))) continue;
    tables.add(comparable(ref, dialect));
    const reported = new Set<number>();
    for (const derived of derivedNames(systemName, input)) {
      const key = derivedNameKey(derived.kind, derived.name, dialect);
      const owner = owners.get(key);
      if (owner === undefined) {
        owners.set(key, { index, ref, role: derived.role });
      } else if (owner.index !== index && !reported.has(owner.index)) {
        reported.add(owner.index);
        issues.push({
          at: [...at, 'tables', index, 'name'],
          message: `table ${ref} and table ${owner.ref} (tables[${owner.index}]) derive the same ${derived.kind} name ${JSON.stringify(derived.name)} (${derived.role}); rename one${derived.kind === 'sync-schema relation' ? ' or set capture.changelogTable' : ''}`,
        });
      }
    }
  }
  return issues;
}

function derivationInput(table: TableSchema, dialect: Dialect): DerivationInput | undefined {
  if (typeof table.name !== 'string' || identifierProblem(table.name) !== undefined) return undefined;
  const schema = table.schema ?? defaultSchema(dialect);
  if (typeof schema !== 'string' || identifierProblem(schema) !== undefined) return undefined;
  // Absent capture means trigger capture (pipeline.normalize.ts).
  const capture: unknown = table.capture ?? Object.assign(new CaptureSchema(), { mode: 'trigger' });
  if (!(capture instanceof CaptureSchema) || typeof capture.mode !== 'string') return undefined;
  const changelogTable = typeof capture.changelogTable === 'string' ? capture.changelogTable : undefined;
  return { schema, name: table.name, capture: { mode: capture.mode, changelogTable } };
}

function connectionRules(connection: ConnectionSchema, at: PathSegments): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  if (connection.url != null) {
    for (const field of ['host', 'port', 'database'] as const) {
      if (connection[field] != null) {
        issues.push({ at: [...at, field], message: 'must not be given together with url (the url names it)' });
      }
    }
  }
  issues.push(...tlsPairRule(connection.tls, [...at, 'tls']));
  return issues;
}

function tlsPairRule(tls: unknown, at: PathSegments): LocatedIssue[] {
  if (!(tls instanceof TlsSchema)) return [];
  if (tls.cert != null && tls.key == null) return [{ at: [...at, 'key'], message: 'is required when cert is given' }];
  if (tls.key != null && tls.cert == null) return [{ at: [...at, 'cert'], message: 'is required when key is given' }];
  return [];
}

function topicReplicationRule(topics: unknown): LocatedIssue[] {
  if (!(topics instanceof TopicDefaultsSchema)) return [];
  const { replicationFactor: rf, minInsyncReplicas: isr } = topics;
  if (typeof rf !== 'number' || typeof isr !== 'number' || isr <= rf) return [];
  // Kafka accepts such a topic, but no write with acks=all could ever succeed on it.
  return [{ at: ['kafka', 'topics', 'minInsyncReplicas'], message: `must not exceed replicationFactor (${rf}), not ${isr}` }];
}

function tableRules(
  table: TableSchema,
  at: PathSegments,
  systemName: string,
  dialect: Dialect | undefined,
  systems: ReadonlyMap<string, SystemSchema>,
): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const key = strings(table.key);
  const columns = strings(table.columns);
  issues.push(...duplicatesRule(key, [...at, 'key'], dialect));
  issues.push(...duplicatesRule(columns, [...at, 'columns'], dialect));
  issues.push(...listedInColumnsRule(key, columns, [...at, 'key'], dialect));
  if (table.generatedKey === true && key !== undefined && key.length > 1) {
    issues.push({
      at: [...at, 'generatedKey'],
      message: `a generated key is a single identity/serial column, but key has ${key.length} columns`,
    });
  }
  if (table.allocateKeysFrom != null && table.generatedKey === true) {
    issues.push({ at: [...at, 'allocateKeysFrom'], message: 'the database generates this key (generatedKey: true): there is nothing to allocate' });
  }
  if (table.identityInsert === true) issues.push(...identityInsertRules(table, [...at, 'identityInsert'], dialect));
  if (table.allocateKeysFrom != null && key !== undefined && key.length !== 1) {
    issues.push({ at: [...at, 'allocateKeysFrom'], message: `keys are allocated for a single integer column, but key has ${key.length} columns` });
  }
  if (table.capture instanceof CaptureSchema) {
    issues.push(...captureRules(table.capture, [...at, 'capture'], dialect));
  }
  if (Array.isArray(table.foreignKeys)) {
    table.foreignKeys.forEach((foreignKey: unknown, index) => {
      if (foreignKey instanceof ForeignKeySchema) {
        issues.push(...foreignKeyRules(foreignKey, [...at, 'foreignKeys', index], columns, systemName, dialect, systems));
      }
    });
  }
  if (dialect === 'postgres') {
    issues.push(...postgresLengthRule(table.name, [...at, 'name']));
    issues.push(...postgresLengthRule(table.schema, [...at, 'schema']));
    (key ?? []).forEach((column, i) => issues.push(...postgresLengthRule(column, [...at, 'key', i])));
    (columns ?? []).forEach((column, i) => issues.push(...postgresLengthRule(column, [...at, 'columns', i])));
  }
  return issues;
}

/** `identityInsert` names SQL Server's SET IDENTITY_INSERT: the suite supplies identity values, so the database does not generate them. */
function identityInsertRules(table: TableSchema, at: PathSegments, dialect: Dialect | undefined): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  if (dialect === 'postgres') {
    issues.push({
      at,
      message: 'is for SQL Server (dialect mssql) only: PostgreSQL serial and GENERATED BY DEFAULT identity columns accept explicit keys without it',
    });
  }
  if (table.generatedKey === true) {
    issues.push({
      at,
      message: 'contradicts generatedKey: true (the database generates this key, identityInsert says write-back commands supply it): keep one',
    });
  }
  return issues;
}

function captureRules(capture: CaptureSchema, at: PathSegments, dialect: Dialect | undefined): LocatedIssue[] {
  const mode = CAPTURE_MODES.find((candidate) => candidate === capture.mode);
  if (mode === undefined) return [];
  const issues: LocatedIssue[] = [];
  if (mode === 'cdc' && dialect === 'postgres') {
    issues.push({
      at: [...at, 'mode'],
      message: 'cdc is only available for mssql systems; use trigger, changelog or logical for postgres',
    });
  }
  if (mode === 'logical' && dialect === 'mssql') {
    issues.push({ at: [...at, 'mode'], message: 'logical is only available for postgres systems; use trigger, changelog or cdc for mssql' });
  }
  for (const field of MODE_SPECIFIC_FIELDS) {
    if (capture[field] != null && !MODE_FIELDS[mode].includes(field)) {
      const modes = CAPTURE_MODES.filter((candidate) => MODE_FIELDS[candidate].includes(field));
      issues.push({ at: [...at, field], message: `only applies when mode is ${modes.join(' or ')}` });
    }
  }
  if (mode === 'changelog') {
    issues.push(...duplicatesRule(strings(capture.positionColumns), [...at, 'positionColumns'], dialect));
    const values = capture.operationValues;
    if (values != null) {
      const codes = [values.insert, values.update, values.delete];
      if (new Set(codes).size !== codes.length) {
        issues.push({ at: [...at, 'operationValues'], message: 'insert, update and delete must be different values' });
      }
    }
  }
  return issues;
}

function foreignKeyRules(
  foreignKey: ForeignKeySchema,
  at: PathSegments,
  tableColumns: readonly string[] | undefined,
  systemName: string,
  dialect: Dialect | undefined,
  systems: ReadonlyMap<string, SystemSchema>,
): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const columns = strings(foreignKey.columns);
  issues.push(...duplicatesRule(columns, [...at, 'columns'], dialect));
  issues.push(...listedInColumnsRule(columns, tableColumns, [...at, 'columns'], dialect));

  const reference: unknown = foreignKey.references;
  if (!(reference instanceof ReferenceSchema)) return issues;
  const referencedColumns = strings(reference.columns);
  const lengthsDiffer =
    columns !== undefined && referencedColumns !== undefined && columns.length !== referencedColumns.length;
  if (lengthsDiffer) {
    issues.push({
      at: [...at, 'references', 'columns'],
      message: `has ${referencedColumns.length} column(s) but columns has ${columns.length}; they pair up by position`,
    });
  }

  const targetName = reference.system ?? systemName;
  if (typeof targetName !== 'string') return issues;
  const target = systems.get(targetName);
  if (target === undefined) {
    issues.push({
      at: [...at, 'references', 'system'],
      message: `unknown system ${JSON.stringify(targetName)} (systems: ${[...systems.keys()].join(', ')})`,
    });
    return issues;
  }
  const targetDialect = dialectOf(target);
  if (typeof reference.table !== 'string' || targetDialect === undefined) return issues;
  const schema = typeof reference.schema === 'string' ? reference.schema : defaultSchema(targetDialect);
  const wanted = comparable(`${schema}.${reference.table}`, targetDialect);
  const referenced = tablesOf(target).find(
    ([table]) => comparable(tableId(table.schema, table.name, targetDialect) ?? '', targetDialect) === wanted,
  )?.[0];
  if (referenced === undefined) {
    issues.push({
      at: [...at, 'references', 'table'],
      message: `no table ${schema}.${reference.table} is declared in system ${targetName}; ids can only be translated for declared tables`,
    });
    return issues;
  }
  const referencedKey = strings(referenced.key);
  if (!lengthsDiffer && referencedColumns !== undefined && referencedKey !== undefined) {
    const asKey = new Set(referencedKey.map((column) => comparable(column, targetDialect)));
    const matches =
      referencedColumns.length === asKey.size &&
      referencedColumns.every((column) => asKey.has(comparable(column, targetDialect)));
    if (!matches) {
      issues.push({
        at: [...at, 'references', 'columns'],
        message: `must be the key of ${targetName}.${schema}.${reference.table} (${referencedKey.join(', ')}): ids are translated through that key`,
      });
    }
  }
  return issues;
}

function duplicatesRule(list: readonly string[] | undefined, at: PathSegments, dialect: Dialect | undefined): LocatedIssue[] {
  const seen = new Set<string>();
  const issues: LocatedIssue[] = [];
  (list ?? []).forEach((item, index) => {
    const value = comparable(item, dialect);
    if (seen.has(value)) issues.push({ at: [...at, index], message: `${JSON.stringify(item)} is listed twice` });
    seen.add(value);
  });
  return issues;
}

function listedInColumnsRule(
  list: readonly string[] | undefined,
  columns: readonly string[] | undefined,
  at: PathSegments,
  dialect: Dialect | undefined,
): LocatedIssue[] {
  if (list === undefined || columns === undefined) return [];
  const known = new Set(columns.map((column) => comparable(column, dialect)));
  return list.flatMap((column, index) =>
    known.has(comparable(column, dialect))
      ? []
      : [{ at: [...at, index], message: `${JSON.stringify(column)} is not listed in the table's columns` }],
  );
}

function postgresLengthRule(name: unknown, at: PathSegments): LocatedIssue[] {
  // Names the general pattern rejects were already reported by the schema.
  if (typeof name !== 'string' || identifierProblem(name) !== undefined) return [];
  const problem = identifierProblem(name, 'postgres');
  return problem === undefined ? [] : [{ at, message: problem }];
}

function tablesOf(system: SystemSchema): [TableSchema, number][] {
  if (!Array.isArray(system.tables)) return [];
  return system.tables.flatMap((table: unknown, index) => (table instanceof TableSchema ? [[table, index]] : []));
}

function dialectOf(system: SystemSchema): Dialect | undefined {
  return DIALECTS.find((dialect) => dialect === system.dialect);
}

function tableId(schema: unknown, name: unknown, dialect: Dialect): string | undefined {
  if (typeof name !== 'string') return undefined;
  return `${typeof schema === 'string' ? schema : defaultSchema(dialect)}.${name}`;
}

// SQL Server's default collations compare identifiers case-insensitively; PostgreSQL compares
// quoted identifiers exactly.
function comparable(name: string, dialect: Dialect | undefined): string {
  return dialect === 'mssql' ? name.toLowerCase() : name;
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item): item is string => typeof item === 'string') ? value : undefined;
}
