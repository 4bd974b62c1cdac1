import type { AppEnv, AppName, PipelineConfig } from '@sync/config';
import type { KafkaConnectionOptions } from '@sync/kafka';
import type { AppLogger } from '@sync/observability';

/** Everything an app knows before Nest starts: validated once, then shared read-only. */
export interface AppContext {
  readonly app: AppName;
  readonly env: AppEnv;
  readonly pipeline: PipelineConfig;
  readonly kafka: KafkaConnectionOptions;
  readonly topicDefaults: { partitions: number; replicationFactor: number };
  readonly logger: AppLogger;
}
