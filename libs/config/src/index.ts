// Public surface of @sync/config. Schema classes, rules and normalisation stay internal so the
// file format can evolve without breaking importers.
export { ConfigValidationError, type ConfigIssue } from './validation-error';
export {
  assertIdentifier,
  quoteIdent,
  DIALECTS,
  IDENTIFIER_PATTERN,
  SYSTEM_NAME_PATTERN,
  type Dialect,
} from './identifier';
export {
  Secret,
  resolveSecret,
  isSecretRef,
  type SecretRef,
  type EnvSecretRef,
  type FileSecretRef,
  type EnvSource,
} from './secret';
export { loadPipelineFile, parsePipeline } from './pipeline.loader';
export {
  changelogNames,
  derivedNames,
  fitName,
  topicSegment,
  MAX_DERIVED_NAME_BYTES,
  type ChangelogNames,
  type DerivedName,
} from './derived-names';
export {
  CAPTURE_MODES,
  TRIGGER_LEVELS,
  type TriggerLevel,
  CONFLICT_POLICIES,
  INITIAL_STATES,
  SASL_MECHANISMS,
  TECHNICAL_FORMATS,
  type TechnicalFormat,
  type TechnicalTopicsConfig,
  RETENTION_CLASSES,
  TOPIC_RETENTION_HOURS,
  type RetentionClass,
  type TopicSettings,
  type CaptureConfig,
  type CaptureMode,
  type ConflictPolicy,
  type InitialState,
  type ConnectionConfig,
  type ForeignKeyConfig,
  type IdTranslationConfig,
  type LegacyWritebackConfig,
  type DomainTransformConfig,
  type MergeConfig,
  type KafkaPipelineConfig,
  type OperationValues,
  type PipelineConfig,
  type SaslConfig,
  type SaslMechanism,
  type SystemConfig,
  type TableConfig,
  type TlsConfig,
} from './pipeline.types';
export { loadEnv, describeEnv, type LoadEnvOptions } from './env.loader';
export { APP_NAMES, DEFAULT_HTTP_PORTS, ENV_DEFAULTS, LOG_LEVELS, LOG_MODULES, type AppEnv, type AppName, type LogLevel, type LogModule } from './env.schema';
export { resolveKafkaSettings, type KafkaSettings } from './kafka-settings';
export { resolveLegacyDbOptions, type LegacyDbSettings } from './legacy-db-settings';
export { mssqlUrlProblem, MSSQL_URL_FORM } from './mssql-url';
export type { ResolvedTls } from './secret-collector';
export { pipelineJsonSchema } from './pipeline.json-schema';
export type { JsonSchema } from './config.validators';
