import { validateSync } from 'class-validator';
import { splitList } from './config.validators';
import type { KafkaClientName } from './pipeline.types';
import {
  APP_NAMES,
  DEFAULT_HTTP_PORTS,
  ENV_DEFAULTS,
  EnvVariables,
  envVariableNames,
  isSensitiveVariable,
  LOG_LEVELS,
  type AppEnv,
  type AppName,
  type LogLevel,
  type LogModule,
} from './env.schema';
import { deepFreeze } from './deep-freeze';
import { resolveSecret, Secret, type EnvSource } from './secret';
import { ConfigValidationError, type ConfigIssue } from './validation-error';
import { issuesFromValidationErrors } from './validation-issues';

export interface LoadEnvOptions {
  /** The app this process is, fixed by its entry point; SYNC_APP may then be unset or must agree. */
  readonly app?: AppName;
  /** Fail unless SYNC_APP is set (a dispatcher choosing the app from the environment). */
  readonly requireApp?: boolean;
}

/**
 * Validates the environment once into a typed, grouped, frozen AppEnv. Throws ConfigValidationError
 * naming every bad variable. The only place in the suite that reads `process.env`.
 */
export function loadEnv(env: EnvSource = process.env, options: LoadEnvOptions = {}): AppEnv {
  const variables = new EnvVariables();
  for (const name of envVariableNames()) {
    // `FOO=` in compose files and manifests means "not set", not "set to nothing".
    const value = env[name];
    variables[name] = value === undefined || value === '' ? undefined : value;
  }
  const issues: ConfigIssue[] = [];
  if (options.app !== undefined) {
    if (variables.SYNC_APP === undefined) {
      // App-specific rules (KEYMAP_DATABASE_URL, the HTTP port) then apply as if it were set.
      variables.SYNC_APP = options.app;
    } else if (variables.SYNC_APP !== options.app) {
      issues.push({ path: 'SYNC_APP', message: `is ${variables.SYNC_APP}, but this process is ${options.app}` });
    }
  }

  for (const { at, message } of issuesFromValidationErrors(validateSync(variables), [])) {
    const name = String(at[0]);
    const value = variables[name as keyof EnvVariables];
    // Belt and braces: whatever a check's message says, a sensitive value is never repeated.
    const safe = isSensitiveVariable(name) && value !== undefined ? message.replaceAll(value, '***') : message;
    issues.push({ path: name, message: safe });
  }
  if (options.requireApp === true && variables.SYNC_APP === undefined) {
    issues.push({ path: 'SYNC_APP', message: `is required to start an app; one of ${APP_NAMES.join(', ')}` });
  }

  let adminToken: Secret | undefined;
  if (variables.ADMIN_TOKEN !== undefined && variables.ADMIN_TOKEN_FILE !== undefined) {
    issues.push({ path: 'ADMIN_TOKEN_FILE', message: 'must not be set together with ADMIN_TOKEN; set one of them' });
  } else if (variables.ADMIN_TOKEN !== undefined) {
    adminToken = new Secret(variables.ADMIN_TOKEN);
  } else if (variables.ADMIN_TOKEN_FILE !== undefined) {
    try {
      adminToken = resolveSecret({ file: variables.ADMIN_TOKEN_FILE }, 'ADMIN_TOKEN_FILE');
    } catch (error: unknown) {
      if (!(error instanceof ConfigValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) {
    throw new ConfigValidationError('Invalid environment', issues);
  }

  const app = APP_NAMES.find((name) => name === variables.SYNC_APP);
  return deepFreeze({
    app,
    pipelineFile: variables.PIPELINE_FILE ?? ENV_DEFAULTS.pipelineFile,
    http: {
      host: variables.HTTP_HOST ?? ENV_DEFAULTS.httpHost,
      port: toInteger(variables.HTTP_PORT) ?? (app === undefined ? ENV_DEFAULTS.httpPort : DEFAULT_HTTP_PORTS[app]),
    },
    kafka: {
      brokers: variables.KAFKA_BROKERS === undefined ? undefined : splitList(variables.KAFKA_BROKERS),
      clientId: variables.KAFKA_CLIENT_ID,
      client: variables.KAFKA_CLIENT as KafkaClientName | undefined,
      maxMessageBytes: toInteger(variables.KAFKA_MAX_MESSAGE_BYTES) ?? ENV_DEFAULTS.kafkaMaxMessageBytes,
      allowPlaintextSasl: variables.KAFKA_ALLOW_PLAINTEXT_SASL === 'true',
      accessFailureExitMs: toInteger(variables.KAFKA_ACCESS_FAILURE_EXIT_MS) ?? ENV_DEFAULTS.kafkaAccessFailureExitMs,
    },
    keymap: {
      databaseUrl: variables.KEYMAP_DATABASE_URL === undefined ? undefined : new Secret(variables.KEYMAP_DATABASE_URL),
    },
    log: {
      level: LOG_LEVELS.find((level) => level === variables.LOG_LEVEL) ?? ENV_DEFAULTS.logLevel,
      modules: variables.LOG_LEVEL_MODULES === undefined ? undefined : moduleLevels(variables.LOG_LEVEL_MODULES),
    },
    admin: { token: adminToken },
    shutdown: { timeoutMs: toInteger(variables.SHUTDOWN_TIMEOUT_MS) ?? ENV_DEFAULTS.shutdownTimeoutMs },
    liveness: { consumerStallMs: toInteger(variables.CONSUMER_STALL_TIMEOUT_MS) ?? ENV_DEFAULTS.consumerStallMs },
    metrics: { consumerLagRefreshMs: toInteger(variables.CONSUMER_LAG_REFRESH_MS) ?? ENV_DEFAULTS.consumerLagRefreshMs },
    console: { metricsUrls: variables.CONSOLE_METRICS_URLS === undefined ? undefined : metricsSources(variables.CONSOLE_METRICS_URLS) },
    syncCtl: { connectTimeoutMs: variables.SYNC_CTL_CONNECT_TIMEOUT === undefined ? undefined : Math.round(Number(variables.SYNC_CTL_CONNECT_TIMEOUT) * 1000) },
    leases: {
      topic: variables.LEGACY_IMPORT_LEASE_TOPIC,
      group: variables.LEGACY_IMPORT_LEASE_GROUP,
      sessionTimeoutMs: toInteger(variables.LEGACY_IMPORT_LEASE_SESSION_TIMEOUT_MS) ?? ENV_DEFAULTS.leaseSessionTimeoutMs,
    },
    memory: { heapGrowingPercent: toInteger(variables.HEAP_GROWING_PERCENT) ?? ENV_DEFAULTS.heapGrowingPercent },
  });
}

/**
 * The effective settings as flat `group.setting` → text, for a boot log line. Secrets print as
 * `***` and unset optional settings as `(not set)`.
 */
export function describeEnv(env: AppEnv): Record<string, string> {
  const description: Record<string, string> = {};
  const visit = (value: unknown, path: string): void => {
    if (value instanceof Secret) {
      description[path] = '***';
    } else if (value === undefined) {
      description[path] = '(not set)';
    } else if (Array.isArray(value)) {
      description[path] = value.join(',');
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      description[path] = String(value);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) visit(child, path === '' ? key : `${path}.${key}`);
    }
  };
  visit(env, '');
  return description;
}

function toInteger(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}

/** `a=http://x:1, b=http://y:2` (already validated) → { a: 'http://x:1', b: 'http://y:2' }. */
function metricsSources(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of splitList(text)) {
    const at = item.indexOf('=');
    out[item.slice(0, at).trim()] = item.slice(at + 1).trim().replace(/\/+$/, '');
  }
  return out;
}

/** `kafkajs=warn, nest=debug` (already validated) → { kafkajs: 'warn', nest: 'debug' }. */
function moduleLevels(text: string): Partial<Record<LogModule, LogLevel>> {
  return Object.fromEntries(splitList(text).map((item) => item.split('=').map((part) => part.trim()) as [LogModule, LogLevel]));
}
