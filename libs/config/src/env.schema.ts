import 'reflect-metadata';
import { IsDefined, IsOptional, ValidateIf, getMetadataStorage } from 'class-validator';
import {
  IsBrokerListText,
  IsGroupPrefix,
  IsIntegerText,
  IsMetricsSourceListText,
  IsModuleLevelsText,
  IsNonEmptyString,
  IsNotBlank,
  IsOneOf,
  IsPostgresUrl,
  IsSecondsText,
} from './config.validators';
import type { Secret } from './secret';
import { KAFKA_CLIENT_NAMES, type KafkaClientName } from './pipeline.types';

export const APP_NAMES = ['legacy-import', 'id-translation', 'domain-transform', 'legacy-writeback'] as const;
/** The deployable app a process runs as (SYNC_APP). */
export type AppName = (typeof APP_NAMES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** What LOG_LEVEL_MODULES can set apart: the app's own lines, kafkajs' lines and Nest's lines. */
export const LOG_MODULES = ['app', 'kafkajs', 'nest'] as const;
export type LogModule = (typeof LOG_MODULES)[number];

/** HTTP_PORT when not set, per app; processes without SYNC_APP (CLIs) get the fallback. */
export const DEFAULT_HTTP_PORTS: Readonly<Record<AppName, number>> = {
  'legacy-import': 8081,
  'id-translation': 8082,
  'domain-transform': 8083,
  'legacy-writeback': 8084,
};

export const ENV_DEFAULTS = {
  pipelineFile: './pipeline.yaml',
  httpHost: '0.0.0.0',
  httpPort: 8080,
  logLevel: 'info',
  shutdownTimeoutMs: 30_000,
  consumerStallMs: 300_000,
  // The broker's default message.max.bytes (1 MiB + 12 bytes of record-batch overhead).
  kafkaMaxMessageBytes: 1_048_588,
  consumerLagRefreshMs: 15_000,
  kafkaAccessFailureExitMs: 60_000,
  leaseSessionTimeoutMs: 10_000,
  // V8 otherwise lets the old generation grow up to 4x what survived the last full GC on a host
  // with plenty of memory, mostly with promoted garbage of finished batches (docs/performance.md,
  // "Memory of the apps").
  heapGrowingPercent: 100,
} as const;

/** Validated process settings, grouped by concern. Sensitive values are Secrets. Deeply frozen. */
export interface AppEnv {
  /** Undefined for CLIs; apps load with `requireApp: true`. */
  readonly app: AppName | undefined;
  readonly pipelineFile: string;
  readonly http: { readonly host: string; readonly port: number };
  /** Overrides of the pipeline file's kafka section. */
  readonly kafka: {
    readonly brokers: readonly string[] | undefined;
    readonly clientId: string | undefined;
    /** KAFKA_CLIENT: overrides kafka.client of the pipeline file. */
    readonly client: KafkaClientName | undefined;
    /** Largest record (key + value + headers, encoded) legacy-import produces; larger ones are dead-lettered as a reference. */
    readonly maxMessageBytes: number;
    /** KAFKA_ALLOW_PLAINTEXT_SASL: accept SASL PLAIN without TLS (the password would cross the network in clear). */
    readonly allowPlaintextSasl: boolean;
    /**
     * KAFKA_ACCESS_FAILURE_EXIT_MS: how long an app keeps retrying while the broker refuses its credentials or
     * certificate (or its certificate is not trusted) before it exits with EXIT_KAFKA_ACCESS.
     */
    readonly accessFailureExitMs: number;
  };
  /** id-translation's own key-map database; set whenever app is id-translation. */
  readonly keymap: { readonly databaseUrl: Secret | undefined };
  /** `modules`: a level per module (LOG_LEVEL_MODULES) instead of `level`. */
  readonly log: { readonly level: LogLevel; readonly modules: Readonly<Partial<Record<LogModule, LogLevel>>> | undefined };
  /** Token for the admin endpoint, from ADMIN_TOKEN or the file ADMIN_TOKEN_FILE names. */
  readonly admin: { readonly token: Secret | undefined };
  readonly shutdown: { readonly timeoutMs: number };
  /** /health/live fails when a consumer of an enabled entity shows no fetch or batch progress for this long. */
  readonly liveness: { readonly consumerStallMs: number };
  /** How often consumers read their group's offsets for the lag metrics. */
  readonly metrics: { readonly consumerLagRefreshMs: number };
  /** The status console: app name → base URL whose /metrics it reads (CONSOLE_METRICS_URLS); undefined: the local default ports. */
  readonly console: { readonly metricsUrls: Readonly<Record<string, string>> | undefined };
  /** sync-ctl: how long a command waits to reach Kafka or a database (SYNC_CTL_CONNECT_TIMEOUT, seconds); undefined: its default. */
  readonly syncCtl: { readonly connectTimeoutMs: number | undefined };
  /**
   * legacy-import replicas (docs/legacy-import.md "Replicas"): the lease topic and group
   * (undefined: derived from the pipeline's system names) and the group session timeout.
   */
  readonly leases: { readonly topic: string | undefined; readonly group: string | undefined; readonly sessionTimeoutMs: number };
  /**
   * HEAP_GROWING_PERCENT: how far V8 lets the old generation grow past what survived the last full
   * collection before the next one (V8's --heap-growing-percent); 0 leaves V8's own adaptive factor.
   */
  readonly memory: { readonly heapGrowingPercent: number };
}

const sensitiveVariables = new Set<string>();

// Like twenty's config variables: a sensitive setting's value is never echoed in error messages
// and becomes a Secret in AppEnv.
function Sensitive(): PropertyDecorator {
  return (_target, propertyName) => {
    sensitiveVariables.add(String(propertyName));
  };
}

/** True for variables whose values must never be printed. */
export function isSensitiveVariable(name: string): boolean {
  return sensitiveVariables.has(name);
}

/** The raw environment as read: every variable is text (empty counts as unset). */
export class EnvVariables {
  @IsOptional() @IsOneOf(APP_NAMES) SYNC_APP?: string;
  @IsOptional() @IsNonEmptyString() PIPELINE_FILE?: string;
  @IsOptional() @IsIntegerText(1, 65_535) HTTP_PORT?: string;
  @IsOptional() @IsNonEmptyString() HTTP_HOST?: string;
  @IsOptional() @IsBrokerListText() KAFKA_BROKERS?: string;
  @IsOptional() @IsNonEmptyString() KAFKA_CLIENT_ID?: string;
  @IsOptional() @IsOneOf(KAFKA_CLIENT_NAMES) KAFKA_CLIENT?: string;
  @IsOptional() @IsIntegerText(1_024, 1_000_000_000) KAFKA_MAX_MESSAGE_BYTES?: string;
  @IsOptional() @IsOneOf(['true', 'false']) KAFKA_ALLOW_PLAINTEXT_SASL?: string;
  @IsOptional() @IsIntegerText(1_000, 3_600_000) KAFKA_ACCESS_FAILURE_EXIT_MS?: string;

  @ValidateIf((o: EnvVariables) => o.SYNC_APP === 'id-translation' || o.KEYMAP_DATABASE_URL !== undefined)
  @IsDefined({ message: 'is required when SYNC_APP is id-translation' })
  @IsPostgresUrl()
  @Sensitive()
  KEYMAP_DATABASE_URL?: string;

  @IsOptional() @IsOneOf(LOG_LEVELS) LOG_LEVEL?: string;
  @IsOptional() @IsModuleLevelsText(LOG_MODULES, LOG_LEVELS) LOG_LEVEL_MODULES?: string;
  @IsOptional() @IsNotBlank() @Sensitive() ADMIN_TOKEN?: string;
  @IsOptional() @IsNonEmptyString() ADMIN_TOKEN_FILE?: string;
  @IsOptional() @IsIntegerText(1, 3_600_000) SHUTDOWN_TIMEOUT_MS?: string;
  @IsOptional() @IsIntegerText(1_000, 86_400_000) CONSUMER_STALL_TIMEOUT_MS?: string;
  @IsOptional() @IsIntegerText(1_000, 3_600_000) CONSUMER_LAG_REFRESH_MS?: string;
  @IsOptional() @IsMetricsSourceListText() CONSOLE_METRICS_URLS?: string;
  @IsOptional() @IsSecondsText(0.1, 600) SYNC_CTL_CONNECT_TIMEOUT?: string;
  @IsOptional() @IsGroupPrefix() LEGACY_IMPORT_LEASE_TOPIC?: string;
  @IsOptional() @IsGroupPrefix() LEGACY_IMPORT_LEASE_GROUP?: string;
  // The broker's group.min.session.timeout.ms default is 6 s and group.max.session.timeout.ms 30 min.
  @IsOptional() @IsIntegerText(6_000, 1_800_000) LEGACY_IMPORT_LEASE_SESSION_TIMEOUT_MS?: string;
  // 0: V8's adaptive factor (up to 300 % on a large host); below 10 % full collections would run back to back.
  @IsOptional() @IsIntegerText(0, 300) HEAP_GROWING_PERCENT?: string;
}

/** Names of every variable this lib reads, taken from the decorators above. */
export function envVariableNames(): (keyof EnvVariables)[] {
  const names = getMetadataStorage()
    .getTargetValidationMetadatas(EnvVariables, '', true, false)
    .map((metadata) => metadata.propertyName as keyof EnvVariables);
  return [...new Set(names)];
}
