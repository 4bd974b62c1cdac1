import 'reflect-metadata';
import { IsOptional, ValidateIf } from 'class-validator';
import { DIALECTS, SYSTEM_NAME_PATTERN, type Dialect } from './identifier';
import {
  IsBool,
  IsBrokerList,
  IsEqualTo,
  IsGroupPrefix,
  IsIdentifier,
  IsIdentifierList,
  IsIntegerIn,
  IsList,
  IsMapping,
  IsNonEmptyString,
  IsOneOf,
  IsScalarCode,
  IsSecretRef,
  IsStringOrSecretRef,
  IsSystemName,
  MapOf,
  Nested,
  Required,
  SchemaOf,
} from './config.validators';
import type { SecretRef } from './secret';
import { KAFKA_CLIENT_NAMES, type KafkaClientName } from './pipeline.types';
import {
  TRIGGER_LEVELS,
  type TriggerLevel,
  CAPTURE_MODES,
  CONFLICT_POLICIES,
  INITIAL_STATES,
  SASL_MECHANISMS,
  TECHNICAL_FORMATS,
  type TechnicalFormat,
  type CaptureMode,
  type ConflictPolicy,
  type InitialState,
  type SaslMechanism,
} from './pipeline.types';

// The shape of the YAML file as class-validator checks it. Field types say what a field holds once
// validation passed; cross-field rules run on unvalidated input too and must not trust them.
// `systems` is a map and is validated entry by entry in pipeline.loader.ts.

export class TlsSchema {
  @IsOptional() @IsBool() enabled?: boolean;
  @IsOptional() @IsSecretRef() ca?: SecretRef;
  @IsOptional() @IsSecretRef() cert?: SecretRef;
  @IsOptional() @IsSecretRef() key?: SecretRef;
  @IsOptional() @IsBool() rejectUnauthorized?: boolean;
}

export class SaslSchema {
  @Required() @IsOneOf(SASL_MECHANISMS) mechanism!: SaslMechanism;
  @Required() @IsStringOrSecretRef() username!: string | SecretRef;
  @Required() @IsSecretRef() password!: SecretRef;
}

// Hours: readable in a YAML file, and coarse enough that nobody sets a command topic to minutes.
// Command topics must outlive the longest pause, so less than a day is refused outright.
export class TopicRetentionSchema {
  @IsOptional() @IsIntegerIn(1, 876_000) technical?: number;
  @IsOptional() @IsIntegerIn(1, 876_000) domain?: number;
  @IsOptional() @IsIntegerIn(24, 876_000) commands?: number;
  @IsOptional() @IsIntegerIn(1, 876_000) deadLetter?: number;
  @IsOptional() @IsIntegerIn(1, 876_000) audit?: number;
}

export class TopicDefaultsSchema {
  @IsOptional() @IsIntegerIn(1, 10_000) partitions?: number;
  @IsOptional() @IsIntegerIn(1, 32) replicationFactor?: number;
  @IsOptional() @IsIntegerIn(1, 32) minInsyncReplicas?: number;

  @IsOptional() @IsMapping() @Nested(() => TopicRetentionSchema)
  retentionHours?: TopicRetentionSchema;
}

export class KafkaSchema {
  @IsOptional() @IsBrokerList() brokers?: string[];
  @IsOptional() @IsNonEmptyString() clientId?: string;
  @IsOptional() @IsOneOf(KAFKA_CLIENT_NAMES) client?: KafkaClientName;

  @IsOptional() @IsMapping() @Nested(() => TlsSchema)
  tls?: TlsSchema;

  @IsOptional() @IsMapping() @Nested(() => SaslSchema)
  sasl?: SaslSchema;

  @IsOptional() @IsMapping() @Nested(() => TopicDefaultsSchema)
  topics?: TopicDefaultsSchema;
}

export class ConnectionSchema {
  @IsOptional() @IsSecretRef() url?: SecretRef;

  // host and database are required unless a url is given (rules reject giving both).
  @ValidateIf((o: ConnectionSchema) => o.url == null || o.host != null)
  @Required()
  @IsNonEmptyString()
  host?: string;

  @IsOptional() @IsIntegerIn(1, 65_535) port?: number;

  // Not an identifier: only a connection parameter, and SQL Server database names may contain '-'.
  @ValidateIf((o: ConnectionSchema) => o.url == null || o.database != null)
  @Required()
  @IsNonEmptyString()
  database?: string;

  @IsOptional() @IsStringOrSecretRef() user?: string | SecretRef;
  @IsOptional() @IsSecretRef() password?: SecretRef;

  @IsOptional() @IsMapping() @Nested(() => TlsSchema)
  tls?: TlsSchema;

  @IsOptional() @IsIntegerIn(1, 1_000) poolSize?: number;
}

export class OperationValuesSchema {
  @Required() @IsScalarCode() insert!: string | number;
  @Required() @IsScalarCode() update!: string | number;
  @Required() @IsScalarCode() delete!: string | number;
}

const isMode =
  (mode: CaptureMode) =>
  (o: CaptureSchema): boolean =>
    o.mode === mode;

// Mode-specific fields are required only in their mode; given in another mode they are reported
// by pipeline.rules.ts, so a value meant for another mode is not silently ignored.
export class CaptureSchema {
  // Defaults to trigger, like an omitted capture block (`capture: { notify: false }` is valid).
  @IsOneOf(CAPTURE_MODES) mode: CaptureMode = 'trigger';
  @IsOptional() @IsIntegerIn(1, 100_000) batchSize?: number;
  @IsOptional() @IsIntegerIn(10, 3_600_000) pollIntervalMs?: number;
  @IsOptional() @IsIntegerIn(1, 100_000) snapshotChunkSize?: number;

  // Trigger mode names the table it generates (optional); changelog mode names the existing one.
  @ValidateIf((o: CaptureSchema) => o.mode === 'changelog' || (o.mode === 'trigger' && o.changelogTable != null))
  @Required()
  @IsIdentifier()
  changelogTable?: string;

  @ValidateIf(isMode('changelog')) @Required() @IsIdentifierList() positionColumns?: string[];
  @ValidateIf(isMode('changelog')) @Required() @IsIdentifier() operationColumn?: string;

  @ValidateIf((o: CaptureSchema) => o.mode === 'changelog' && o.operationValues != null)
  @IsMapping()
  @Nested(() => OperationValuesSchema)
  operationValues?: OperationValuesSchema;

  @ValidateIf((o: CaptureSchema) => o.mode === 'changelog' && o.keysOnly != null)
  @IsBool()
  keysOnly?: boolean;

  @ValidateIf((o: CaptureSchema) => o.mode === 'changelog' && o.changelogSchema != null) @IsIdentifier() changelogSchema?: string;
  @ValidateIf((o: CaptureSchema) => o.mode === 'changelog' && o.watermarkColumn != null) @IsIdentifier() watermarkColumn?: string;
  @ValidateIf((o: CaptureSchema) => o.mode === 'changelog' && o.keyColumns != null) @IsIdentifierList() keyColumns?: string[];
  @ValidateIf((o: CaptureSchema) => o.mode === 'changelog' && o.rowImageColumn != null) @IsIdentifier() rowImageColumn?: string;

  @ValidateIf((o: CaptureSchema) => o.mode === 'trigger' && o.retentionMs != null) @IsIntegerIn(0, 2_147_483_647) retentionMs?: number;
  @ValidateIf((o: CaptureSchema) => o.mode === 'trigger' && o.notify != null) @IsBool() notify?: boolean;
  @ValidateIf((o: CaptureSchema) => o.mode === 'trigger' && o.triggerLevel != null) @IsOneOf(TRIGGER_LEVELS) triggerLevel?: TriggerLevel;

  @ValidateIf((o: CaptureSchema) => o.mode === 'cdc' && o.captureInstance != null)
  @IsIdentifier()
  captureInstance?: string;

  @ValidateIf((o: CaptureSchema) => o.mode === 'cdc' && o.resnapshotOnGap != null) @IsBool() resnapshotOnGap?: boolean;
}

export class ReferenceSchema {
  @IsOptional() @IsSystemName() system?: string;
  @IsOptional() @IsIdentifier() schema?: string;
  @Required() @IsIdentifier() table!: string;
  @Required() @IsIdentifierList() columns!: string[];
}

export class ForeignKeySchema {
  @Required() @IsIdentifierList() columns!: string[];

  @Required() @IsMapping() @Nested(() => ReferenceSchema)
  references!: ReferenceSchema;
}

export class MergeSchema {
  @Required() @IsIdentifier() group!: string;
  @Required() @IsIdentifierList() on!: string[];
}

export class TableSchema {
  @Required() @IsIdentifier() name!: string;
  @IsOptional() @IsIdentifier() schema?: string;
  @Required() @IsIdentifierList() key!: string[];
  @IsOptional() @IsIdentifierList() columns?: string[];

  // Absent means trigger capture: it works on both dialects and the suite generates its DDL.
  @IsOptional() @IsMapping() @Nested(() => CaptureSchema)
  capture?: CaptureSchema;

  @IsOptional() @IsList({ nonEmpty: false }) @Nested(() => ForeignKeySchema)
  foreignKeys?: ForeignKeySchema[];

  @IsOptional() @IsOneOf(CONFLICT_POLICIES) conflictPolicy?: ConflictPolicy;
  @IsOptional() @IsIntegerIn(1_000, 7 * 24 * 3_600_000) staleAfterMs?: number;
  @IsOptional() @IsBool() generatedKey?: boolean;
  @IsOptional() @IsBool() identityInsert?: boolean;

  @IsOptional() @IsMapping() @Nested(() => MergeSchema)
  merge?: MergeSchema;

  @IsOptional() @IsIntegerIn(1, Number.MAX_SAFE_INTEGER) allocateKeysFrom?: number;

  // The switches of a new entity while sync.control has no record for it (docs/adding-an-entity.md).
  @IsOptional() @IsOneOf(INITIAL_STATES) initialState?: InitialState;
}

export class SystemSchema {
  @Required() @IsOneOf(DIALECTS) dialect!: Dialect;

  @Required() @IsMapping() @Nested(() => ConnectionSchema)
  connection!: ConnectionSchema;

  @IsOptional() @IsIdentifier() syncSchema?: string;

  @Required() @IsList({ nonEmpty: true }) @Nested(() => TableSchema)
  tables!: TableSchema[];
}

export class IdTranslationSchema {
  @IsOptional() @IsIntegerIn(1_000, 30 * 24 * 3_600_000) parkTimeoutMs?: number;
  @IsOptional() @IsIntegerIn(0, 30 * 24 * 3_600_000) mergeWaitMs?: number;
  @IsOptional() @IsIntegerIn(0, 24 * 3_600_000) rekeyWaitMs?: number;
  @IsOptional() @IsIntegerIn(0, 10_000_000) cacheSize?: number;
  @IsOptional() @IsGroupPrefix() groupPrefix?: string;
}

export class LegacyWritebackSchema {
  @IsOptional() @IsIntegerIn(1, 100) foreignKeyAttempts?: number;
  @IsOptional() @IsIntegerIn(1_000, 24 * 3_600_000) parkedRetryMs?: number;
  @IsOptional() @IsIntegerIn(1_000, 30 * 24 * 3_600_000) parkTimeoutMs?: number;
  @IsOptional() @IsIntegerIn(1_000, 3_600_000) blockedRetryMs?: number;
  @IsOptional() @IsIntegerIn(1_000, 24 * 3_600_000) maxClockSkewMs?: number;
  @IsOptional() @IsIntegerIn(1_000, 3_650 * 24 * 3_600_000) inboxMaxAgeMs?: number;
  @IsOptional() @IsIntegerIn(1, 1_000_000_000) inboxKeepPerEntity?: number;
  @IsOptional() @IsIntegerIn(0, 24 * 3_600_000) inboxPruneIntervalMs?: number;
  @IsOptional() @IsIntegerIn(0, 24 * 3_600_000) inboxPruneMarginMs?: number;
}

export class TechnicalTopicsSchema {
  @IsOptional() @IsOneOf(TECHNICAL_FORMATS) format?: TechnicalFormat;
  @IsOptional() @IsBool() schemasEnable?: boolean;
  @IsOptional() @IsBool() tombstonesOnDelete?: boolean;
}

export class DomainTransformSchema {
  @IsOptional() @IsGroupPrefix() groupPrefix?: string;
}

export class PipelineSchema {
  @Required() @IsEqualTo(1, 'the only pipeline file version') version!: 1;

  @IsOptional() @IsMapping() @Nested(() => KafkaSchema)
  kafka?: KafkaSchema;

  // Plain record here; each entry becomes a SystemSchema in pipeline.loader.ts.
  @Required() @IsMapping() @MapOf(() => SystemSchema, { pattern: SYSTEM_NAME_PATTERN.source }) @SchemaOf({ minProperties: 1 })
  systems!: Record<string, unknown>;

  @IsOptional() @IsMapping() @Nested(() => IdTranslationSchema)
  idTranslation?: IdTranslationSchema;

  @IsOptional() @IsMapping() @Nested(() => DomainTransformSchema)
  domainTransform?: DomainTransformSchema;

  @IsOptional() @IsMapping() @Nested(() => LegacyWritebackSchema)
  legacyWriteback?: LegacyWritebackSchema;

  @IsOptional() @IsMapping() @Nested(() => TechnicalTopicsSchema)
  technicalTopics?: TechnicalTopicsSchema;

  // Validated by @sync/mapping (mappings, replication) and sync-ctl verify (verify); their schemas
  // are added to the published one from those modules (scripts/schema/pipeline-schema.ts).
  @IsOptional() @IsMapping() mappings?: Record<string, unknown>;
  @IsOptional() @IsList({ nonEmpty: false }) replication?: unknown[];
  @IsOptional() @IsMapping() verify?: Record<string, unknown>;
}
