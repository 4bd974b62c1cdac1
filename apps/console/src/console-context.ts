import type { AppEnv, PipelineConfig } from '@sync/config';
import type { KafkaConnectionOptions } from '@sync/kafka';
import type { AppLogger } from '@sync/observability';

/** What the console knows before Nest starts: validated once, then shared read-only. */
export interface ConsoleContext {
  readonly env: AppEnv;
  readonly pipeline: PipelineConfig;
  readonly kafka: KafkaConnectionOptions;
  readonly logger: AppLogger;
  /** app → base URL whose /metrics is read. */
  readonly metricsUrls: Readonly<Record<string, string>>;
}

export const CONSOLE_CONTEXT = Symbol('CONSOLE_CONTEXT');

/** Where each app listens when they run side by side on one host (their default ports). */
export const LOCAL_METRICS_URLS: Readonly<Record<string, string>> = {
  'legacy-import': 'http://127.0.0.1:8081',
  'id-translation': 'http://127.0.0.1:8082',
  'domain-transform': 'http://127.0.0.1:8083',
  'legacy-writeback': 'http://127.0.0.1:8084',
};
