import { deepFreeze } from './deep-freeze';
import { defaultSchema, type Dialect } from './identifier';
import type {
  CaptureSchema,
  ConnectionSchema,
  KafkaSchema,
  PipelineSchema,
  SystemSchema,
  TableSchema,
  TlsSchema,
} from './pipeline.schema';
import type {
  CaptureConfig,
  ConnectionConfig,
  KafkaPipelineConfig,
  PipelineConfig,
  SystemConfig,
  TableConfig,
  TlsConfig,
} from './pipeline.types';
import { TOPIC_RETENTION_HOURS } from './pipeline.types';

// Turns a pipeline that passed validation into PipelineConfig, applying every default in one place
// so consumers never repeat `?? default`.

export const PIPELINE_DEFAULTS = {
  syncSchema: 'sync',
  poolSize: 10,
  port: { postgres: 5432, mssql: 1433 } satisfies Record<Dialect, number>,
  batchSize: 1_000,
  snapshotChunkSize: 10_000,
  pollIntervalMs: 500,
  // Trigger mode polls more often: without NOTIFY the interval is its latency (bench:capture-cost).
  triggerPollIntervalMs: 100,
  conflictPolicy: 'legacy-wins',
  staleAfterMs: 300_000,
  operationValues: { insert: 'I', update: 'U', delete: 'D' },
  retentionMs: 86_400_000,
  // NOTIFY is opt-in: notifying transactions commit one at a time (docs/performance.md).
  notify: false,
  triggerLevel: 'statement',
  parkTimeoutMs: 3_600_000,
  mergeWaitMs: 300_000,
  rekeyWaitMs: 30_000,
  cacheSize: 100_000,
  groupPrefix: 'id-translation',
  technicalTopics: { format: 'native', schemasEnable: true, tombstonesOnDelete: true },
  legacyWriteback: {
    foreignKeyAttempts: 3,
    parkedRetryMs: 30_000,
    parkTimeoutMs: 86_400_000,
    blockedRetryMs: 30_000,
    maxClockSkewMs: 300_000,
    inboxMaxAgeMs: 7 * 86_400_000,
    inboxPruneIntervalMs: 600_000,
    inboxPruneMarginMs: 60_000,
  },
} as const;

export function normalizePipeline(pipeline: PipelineSchema, systems: ReadonlyMap<string, SystemSchema>): PipelineConfig {
  const dialects = new Map([...systems].map(([name, system]) => [name, system.dialect]));
  return deepFreeze({
    version: 1,
    kafka: normalizeKafka(pipeline.kafka),
    systems: new Map([...systems].map(([name, system]) => [name, normalizeSystem(name, system, dialects)])),
    idTranslation: {
      parkTimeoutMs: pipeline.idTranslation?.parkTimeoutMs ?? PIPELINE_DEFAULTS.parkTimeoutMs,
      mergeWaitMs: pipeline.idTranslation?.mergeWaitMs ?? PIPELINE_DEFAULTS.mergeWaitMs,
      rekeyWaitMs: pipeline.idTranslation?.rekeyWaitMs ?? PIPELINE_DEFAULTS.rekeyWaitMs,
      cacheSize: pipeline.idTranslation?.cacheSize ?? PIPELINE_DEFAULTS.cacheSize,
      groupPrefix: pipeline.idTranslation?.groupPrefix ?? PIPELINE_DEFAULTS.groupPrefix,
    },
    domainTransform: { groupPrefix: pipeline.domainTransform?.groupPrefix ?? 'domain-transform' },
    legacyWriteback: { ...PIPELINE_DEFAULTS.legacyWriteback, ...definedOnly(pipeline.legacyWriteback) },
    technicalTopics: { ...PIPELINE_DEFAULTS.technicalTopics, ...definedOnly(pipeline.technicalTopics) },
    mappings: pipeline.mappings ?? {},
    replication: pipeline.replication ?? [],
    verify: pipeline.verify ?? {},
  });
}

/** The entries of a validated section that were given (class-transformer leaves the others undefined). */
function definedOnly<T extends object>(section: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(section ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function normalizeKafka(kafka: KafkaSchema | undefined): KafkaPipelineConfig {
  const sasl = kafka?.sasl;
  return {
    brokers: kafka?.brokers ?? [],
    ...(kafka?.clientId != null && { clientId: kafka.clientId }),
    client: kafka?.client ?? 'kafkajs',
    tls: normalizeTls(kafka?.tls),
    ...(sasl != null && { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } }),
    topics: {
      ...(kafka?.topics?.partitions != null && { partitions: kafka.topics.partitions }),
      ...(kafka?.topics?.replicationFactor != null && { replicationFactor: kafka.topics.replicationFactor }),
      ...(kafka?.topics?.minInsyncReplicas != null && { minInsyncReplicas: kafka.topics.minInsyncReplicas }),
      retentionHours: { ...TOPIC_RETENTION_HOURS, ...definedOnly(kafka?.topics?.retentionHours ?? undefined) },
    },
  };
}

function normalizeTls(tls: TlsSchema | undefined | null): TlsConfig {
  return {
    // Writing a tls block at all means TLS is wanted, unless it says enabled: false.
    enabled: tls == null ? false : (tls.enabled ?? true),
    ...(tls?.ca != null && { ca: tls.ca }),
    ...(tls?.cert != null && { cert: tls.cert }),
    ...(tls?.key != null && { key: tls.key }),
    rejectUnauthorized: tls?.rejectUnauthorized ?? true,
  };
}

function normalizeSystem(name: string, system: SystemSchema, dialects: ReadonlyMap<string, Dialect>): SystemConfig {
  return {
    name,
    dialect: system.dialect,
    connection: normalizeConnection(system.connection, system.dialect),
    syncSchema: system.syncSchema ?? PIPELINE_DEFAULTS.syncSchema,
    tables: system.tables.map((table) => normalizeTable(name, system.dialect, table, dialects)),
  };
}

function normalizeConnection(connection: ConnectionSchema, dialect: Dialect): ConnectionConfig {
  const common = {
    ...(connection.user != null && { user: connection.user }),
    ...(connection.password != null && { password: connection.password }),
    tls: normalizeTls(connection.tls),
    poolSize: connection.poolSize ?? PIPELINE_DEFAULTS.poolSize,
  };
  if (connection.url != null) {
    return { kind: 'url', url: connection.url, ...common };
  }
  return {
    kind: 'host',
    host: validated(connection.host, 'connection.host'),
    port: connection.port ?? PIPELINE_DEFAULTS.port[dialect],
    database: validated(connection.database, 'connection.database'),
    ...common,
  };
}

function normalizeTable(
  system: string,
  dialect: Dialect,
  table: TableSchema,
  dialects: ReadonlyMap<string, Dialect>,
): TableConfig {
  const schema = table.schema ?? defaultSchema(dialect);
  return {
    system,
    schema,
    name: table.name,
    key: table.key,
    ...(table.columns != null && { columns: table.columns }),
    capture: normalizeCapture(table.capture, schema, table.name, dialect, table.key),
    foreignKeys: (table.foreignKeys ?? []).map((foreignKey) => {
      const target = foreignKey.references.system ?? system;
      return {
        columns: foreignKey.columns,
        references: {
          system: target,
          schema: foreignKey.references.schema ?? defaultSchema(dialects.get(target) ?? dialect),
          table: foreignKey.references.table,
          columns: foreignKey.references.columns,
        },
      };
    }),
    conflictPolicy: table.conflictPolicy ?? PIPELINE_DEFAULTS.conflictPolicy,
    staleAfterMs: table.staleAfterMs ?? PIPELINE_DEFAULTS.staleAfterMs,
    generatedKey: table.generatedKey ?? false,
    identityInsert: table.identityInsert ?? false,
    ...(table.merge != null && { merge: { group: table.merge.group, on: table.merge.on } }),
    ...(table.allocateKeysFrom != null && { allocateKeysFrom: table.allocateKeysFrom }),
    initialState: table.initialState ?? 'enabled',
  };
}

function normalizeCapture(
  capture: CaptureSchema | undefined,
  schema: string,
  table: string,
  dialect: Dialect,
  key: readonly string[],
): CaptureConfig {
  if (capture == null) {
    return {
      mode: 'trigger',
      batchSize: PIPELINE_DEFAULTS.batchSize,
      pollIntervalMs: PIPELINE_DEFAULTS.triggerPollIntervalMs,
      snapshotChunkSize: PIPELINE_DEFAULTS.snapshotChunkSize,
      retentionMs: PIPELINE_DEFAULTS.retentionMs,
      notify: PIPELINE_DEFAULTS.notify,
      triggerLevel: PIPELINE_DEFAULTS.triggerLevel,
    };
  }
  const common = {
    batchSize: capture.batchSize ?? PIPELINE_DEFAULTS.batchSize,
    pollIntervalMs: capture.pollIntervalMs ?? (capture.mode === 'trigger' ? PIPELINE_DEFAULTS.triggerPollIntervalMs : PIPELINE_DEFAULTS.pollIntervalMs),
    snapshotChunkSize: capture.snapshotChunkSize ?? PIPELINE_DEFAULTS.snapshotChunkSize,
  };
  switch (capture.mode) {
    case 'trigger':
      return {
        mode: 'trigger',
        ...common,
        ...(capture.changelogTable != null && { changelogTable: capture.changelogTable }),
        retentionMs: capture.retentionMs ?? PIPELINE_DEFAULTS.retentionMs,
        notify: capture.notify ?? PIPELINE_DEFAULTS.notify,
        triggerLevel: capture.triggerLevel ?? PIPELINE_DEFAULTS.triggerLevel,
      };
    case 'changelog': {
      const values = capture.operationValues;
      return {
        mode: 'changelog',
        ...common,
        changelogTable: validated(capture.changelogTable, 'capture.changelogTable'),
        positionColumns: validated(capture.positionColumns, 'capture.positionColumns'),
        operationColumn: validated(capture.operationColumn, 'capture.operationColumn'),
        operationValues:
          values == null
            ? PIPELINE_DEFAULTS.operationValues
            : { insert: values.insert, update: values.update, delete: values.delete },
        keysOnly: capture.keysOnly ?? false,
        changelogSchema: capture.changelogSchema ?? schema,
        watermarkColumn: capture.watermarkColumn ?? (dialect === 'postgres' ? 'sync_tx' : 'sync_rv'),
        keyColumns: capture.keyColumns ?? key,
        ...(capture.rowImageColumn != null && { rowImageColumn: capture.rowImageColumn }),
      };
    }
    case 'cdc':
      // SQL Server names a capture instance <schema>_<table> unless told otherwise.
      return { mode: 'cdc', ...common, captureInstance: capture.captureInstance ?? `${schema}_${table}`, resnapshotOnGap: capture.resnapshotOnGap ?? false };
    case 'logical':
      return { mode: 'logical', ...common };
    default:
      return assertNever(capture.mode);
  }
}

// For fields the schema requires conditionally (@ValidateIf), which the type system cannot see.
function validated<T>(value: T | null | undefined, field: string): T {
  if (value == null) throw new Error(`${field} passed validation but is missing`);
  return value;
}

function assertNever(value: never): never {
  throw new Error(`unexpected capture mode ${String(value)}`);
}
