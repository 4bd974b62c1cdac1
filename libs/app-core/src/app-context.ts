import type { AppEnv, AppName, PipelineConfig } from '@sync/config';
import type { KafkaConnectionOptions, TopicPolicy } from '@sync/kafka';
import type { AppLogger } from '@sync/observability';

/** Everything an app knows before Nest starts: validated once, then shared read-only. */
export interface AppContext {
  readonly app: AppName;
  readonly env: AppEnv;
  readonly pipeline: PipelineConfig;
  readonly kafka: KafkaConnectionOptions;
  /** How topics are created and what existing ones are checked against (pipeline `kafka.topics`). */
  readonly topicPolicy: TopicPolicy;
  readonly logger: AppLogger;
}
