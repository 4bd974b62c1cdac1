import type { Dialect } from './identifier';
import type { SecretRef } from './secret';

export const CAPTURE_MODES = ['trigger', 'changelog', 'cdc', 'logical'] as const;
export type CaptureMode = (typeof CAPTURE_MODES)[number];
/** Granularity of the PostgreSQL capture triggers (trigger mode); SQL Server triggers are per statement. */
export const TRIGGER_LEVELS = ['statement', 'row'] as const;
export type TriggerLevel = (typeof TRIGGER_LEVELS)[number];

export const CONFLICT_POLICIES = ['legacy-wins', 'new-wins', 'last-writer-wins'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

/** `initialState` of a table: its switches while sync.control holds no record for it. */
export const INITIAL_STATES = ['enabled', 'disabled'] as const;
export type InitialState = (typeof INITIAL_STATES)[number];

/** How legacy-import writes the technical topics (legacy.*): docs/debezium-compatibility.md. */
export const TECHNICAL_FORMATS = ['native', 'debezium'] as const;
export type TechnicalFormat = (typeof TECHNICAL_FORMATS)[number];

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];
/** Kafka client libraries (libs/kafka KAFKA_CLIENTS): kafkajs, or Confluent's @confluentinc/kafka-javascript. */
export const KAFKA_CLIENT_NAMES = ['kafkajs', 'confluent'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENT_NAMES)[number];

/** The validated pipeline file with every default applied. Objects and lists are frozen; `systems` is read-only by type. */
export interface PipelineConfig {
  readonly version: 1;
  readonly kafka: KafkaPipelineConfig;
  /** Systems by name. A Map, so a name like `constructor` cannot collide with object members. */
  readonly systems: ReadonlyMap<string, SystemConfig>;
  readonly idTranslation: IdTranslationConfig;
  readonly domainTransform: DomainTransformConfig;
  readonly legacyWriteback: LegacyWritebackConfig;
  readonly technicalTopics: TechnicalTopicsConfig;
  /** Not validated here yet: owned by domain-transform. */
  readonly mappings: Readonly<Record<string, unknown>>;
  /** Not validated here yet: owned by domain-transform. */
  readonly replication: readonly unknown[];
  /** Not validated here: owned by `sync-ctl verify` (docs/verify.md). */
  readonly verify: Readonly<Record<string, unknown>>;
}

/** Format of the technical topics legacy.* (pipeline section `technicalTopics`); docs/debezium-compatibility.md. */
export interface TechnicalTopicsConfig {
  /** `native` (default): the suite's own envelope; `debezium`: what Debezium's connectors and JsonConverter write. */
  readonly format: TechnicalFormat;
  /** Debezium mode: key and value as `{schema, payload}` (JsonConverter schemas.enable=true; default true). */
  readonly schemasEnable: boolean;
  /** Debezium mode: a tombstone (same key, null value) after every delete (default true). */
  readonly tombstonesOnDelete: boolean;
}

/** Settings of the domain-transform app (pipeline section `domainTransform`). */
export interface DomainTransformConfig {
  /** Consumer groups are `<groupPrefix>.forward` and `.reverse` (default `domain-transform`). */
  readonly groupPrefix: string;
}

/** Settings of the legacy-writeback app (pipeline section `legacyWriteback`). */
export interface LegacyWritebackConfig {
  /** Attempts of a command failing on a foreign key before it is parked (default 3). */
  readonly foreignKeyAttempts: number;
  /** How often parked commands are retried (default 30 s). */
  readonly parkedRetryMs: number;
  /** A command parked longer than this goes to dlq.legacy-writeback (default 24 h). */
  readonly parkTimeoutMs: number;
  /** How long an entity held by a schema problem (column or table missing) waits before it is tried again (default 30 s). */
  readonly blockedRetryMs: number;
  /**
   * A command whose occurredAt (the domain event's ce_time) is further than this ahead of the
   * write-back's clock is a data error, dead-lettered (default 5 min).
   */
  readonly maxClockSkewMs: number;
  /** Inbox rows older than this may be pruned (default 7 days), once no longer redeliverable. */
  readonly inboxMaxAgeMs: number;
  /** Keep at most this many inbox rows per entity (besides the age rule); unset: no count limit. */
  readonly inboxKeepPerEntity?: number;
  /** How often the inbox is pruned (default 10 min); 0 disables pruning. */
  readonly inboxPruneIntervalMs: number;
  /** Safety margin subtracted from the redelivery horizon (default 60 s): clock steps of the database. */
  readonly inboxPruneMarginMs: number;
}

/** Settings of the id-translation app (pipeline section `idTranslation`). */
export interface IdTranslationConfig {
  /** A write-back command parked longer than this goes to dlq.id-translation. */
  readonly parkTimeoutMs: number;
  /**
   * How long legacy events wait, per partition, for a merge table's row they reference to be seen
   * first; past it the row gets its key-based id (and cannot merge any more).
   */
  readonly mergeWaitMs: number;
  /**
   * How long legacy events wait, per partition, for the other end of a primary-key move (the
   * delete of the old key, or a parent's move its child followed); past it the end that is there
   * makes the move. docs/primary-key-updates.md.
   */
  readonly rekeyWaitMs: number;
  /** Key-map entries kept in memory per replica (0 disables the cache). */
  readonly cacheSize: number;
  /** Consumer groups are `<groupPrefix>.legacy`, `.writeback` and `.links`. */
  readonly groupPrefix: string;
}

export interface TlsConfig {
  readonly enabled: boolean;
  readonly ca?: SecretRef;
  readonly cert?: SecretRef;
  readonly key?: SecretRef;
  readonly rejectUnauthorized: boolean;
}

export interface SaslConfig {
  readonly mechanism: SaslMechanism;
  readonly username: string | SecretRef;
  readonly password: SecretRef;
}

export interface KafkaPipelineConfig {
  /** Empty when the file names none; KAFKA_BROKERS must then be set (see resolveKafkaSettings). */
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** Client library for producers and consumers (docs/pipeline.md "kafka.client"); default kafkajs. */
  readonly client: KafkaClientName;
  readonly tls: TlsConfig;
  readonly sasl?: SaslConfig;
  /** Settings for topics the suite creates and the minimum it expects of existing ones. */
  readonly topics: TopicSettings;
}

/** Topic classes with a time retention (compacted topics have none); see docs/operations.md "Topic settings". */
export const RETENTION_CLASSES = ['technical', 'domain', 'commands', 'deadLetter', 'audit'] as const;
export type RetentionClass = (typeof RETENTION_CLASSES)[number];

/** Default retention per class, in hours: commands outlive a 7-day pause twice over. */
export const TOPIC_RETENTION_HOURS: Readonly<Record<RetentionClass, number>> = {
  technical: 7 * 24,
  domain: 30 * 24,
  commands: 14 * 24,
  deadLetter: 30 * 24,
  audit: 90 * 24,
};

export interface TopicSettings {
  /** Absent: 1. */
  readonly partitions?: number;
  /** Absent: min(3, brokers the cluster reports). */
  readonly replicationFactor?: number;
  /** Absent: replicationFactor - 1, at least 1. */
  readonly minInsyncReplicas?: number;
  readonly retentionHours: Readonly<Record<RetentionClass, number>>;
}

export interface SystemConfig {
  readonly name: string;
  readonly dialect: Dialect;
  readonly connection: ConnectionConfig;
  /** Schema holding the suite's changelog and inbox tables. */
  readonly syncSchema: string;
  readonly tables: readonly TableConfig[];
}

interface ConnectionCommon {
  readonly user?: string | SecretRef;
  readonly password?: SecretRef;
  readonly tls: TlsConfig;
  readonly poolSize: number;
}

export type ConnectionConfig =
  | (ConnectionCommon & { readonly kind: 'url'; readonly url: SecretRef })
  | (ConnectionCommon & {
      readonly kind: 'host';
      readonly host: string;
      readonly port: number;
      readonly database: string;
    });

export interface TableConfig {
  readonly system: string;
  readonly schema: string;
  readonly name: string;
  readonly key: readonly string[];
  /** Columns to sync; undefined means all columns of the table. */
  readonly columns?: readonly string[];
  readonly capture: CaptureConfig;
  readonly foreignKeys: readonly ForeignKeyConfig[];
  readonly conflictPolicy: ConflictPolicy;
  readonly staleAfterMs: number;
  /** The database generates the key (identity/serial); write-back reports it on idmap.links. */
  readonly generatedKey: boolean;
  /**
   * SQL Server only: write-back commands may carry explicit values for an IDENTITY column of the
   * key; they are inserted under `SET IDENTITY_INSERT … ON`. Off: such a command for a row that
   * does not exist is poison (SQL Server generates identity values). Excludes generatedKey.
   */
  readonly identityInsert: boolean;
  /**
   * Rows of this table that are the same real-world entity share one global id across systems:
   * rows with equal values in `on` (within `group`) are merged on first sight.
   */
  readonly merge?: MergeConfig;
  /**
   * For a non-generated single-column integer key: id-translation allocates keys from this value
   * upwards for rows the new side (or another source) inserts.
   */
  readonly allocateKeysFrom?: number;
  /**
   * Both switches (legacy→new capture, new→legacy write-back) of the entity until `sync-ctl enable`
   * or `disable` writes a record for it on sync.control (default enabled).
   */
  readonly initialState: InitialState;
}

export interface MergeConfig {
  readonly group: string;
  readonly on: readonly string[];
}

interface CaptureCommon {
  readonly batchSize: number;
  readonly pollIntervalMs: number;
  /** Rows per keyset read of a snapshot; the next chunk is read while this one is published. */
  readonly snapshotChunkSize: number;
}

export interface OperationValues {
  readonly insert: string | number;
  readonly update: string | number;
  readonly delete: string | number;
}

export type CaptureConfig =
  | (CaptureCommon & {
      readonly mode: 'trigger';
      /** Name of the generated changelog table; undefined lets the DDL generator choose. */
      readonly changelogTable?: string;
      /** Consumed changelog rows older than this are purged (0 keeps them). */
      readonly retentionMs: number;
      /**
       * PostgreSQL: the trigger sends NOTIFY so the importer wakes at once. PostgreSQL serialises the
       * commits of notifying transactions, so a database with many small write transactions may
       * prefer false (capture then relies on polling every pollIntervalMs).
       */
      readonly notify: boolean;
      /**
       * PostgreSQL: `statement` records each statement's rows with one set-based insert from its
       * transition tables (primary-key moves still row by row); `row` runs one insert per row.
       * SQL Server's trigger is per statement either way.
       */
      readonly triggerLevel: TriggerLevel;
    })
  | (CaptureCommon & {
      readonly mode: 'changelog';
      readonly changelogTable: string;
      readonly positionColumns: readonly string[];
      readonly operationColumn: string;
      readonly operationValues: OperationValues;
      /** The changelog holds keys only; the current row is read from the base table. */
      readonly keysOnly: boolean;
      /** Schema of the existing changelog table (default: the base table's). */
      readonly changelogSchema: string;
      /**
       * Commit-safe watermark column: rowversion on SQL Server, xid8 on PostgreSQL (`sync-ctl schema`
       * adds it when missing: sync_rv / sync_tx by default).
       */
      readonly watermarkColumn: string;
      /** Changelog columns holding the base table's key, in key order (default: the key's names). */
      readonly keyColumns: readonly string[];
      /** Column with the row image as JSON; absent: the changelog repeats the base columns (or keysOnly). */
      readonly rowImageColumn?: string;
    })
  | (CaptureCommon & {
      readonly mode: 'cdc';
      readonly captureInstance: string;
      /** Re-snapshot the entity when its saved LSN fell out of the CDC retention window (default: stop and report). */
      readonly resnapshotOnGap: boolean;
    })
  | (CaptureCommon & {
      /**
       * PostgreSQL logical decoding: one publication and one replication slot (pgoutput) per system,
       * streamed over the replication protocol; the slot is acknowledged only after Kafka acked.
       */
      readonly mode: 'logical';
    });

export interface ForeignKeyConfig {
  readonly columns: readonly string[];
  readonly references: {
    readonly system: string;
    readonly schema: string;
    readonly table: string;
    readonly columns: readonly string[];
  };
}
