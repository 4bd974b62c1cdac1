import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { applyHeapFlags, EXIT_CONFIG, EXIT_STARTUP, startupSummary } from '@sync/app-core';
import { loadEnv, loadPipelineFile, resolveKafkaSettings } from '@sync/config';
import { createLogger, NestJsonLogger } from '@sync/observability';
import { LOCAL_METRICS_URLS, type ConsoleContext } from './console-context';
import { ConsoleModule } from './console.module';

/**
 * The status console: one read-only page over every entity (docs/operations.md#status-page). Not
 * one of the pipeline's apps (no SYNC_APP): it only reads Kafka and the apps' /metrics.
 */
async function main(): Promise<void> {
  let ctx: ConsoleContext;
  try {
    const env = loadEnv();
    applyHeapFlags(env.memory);
    const pipeline = loadPipelineFile(env.pipelineFile);
    const logger = createLogger('console', env.log.level, undefined, env.log.modules ?? {});
    const kafka = resolveKafkaSettings(pipeline, env);
    ctx = {
      env,
      pipeline,
      logger,
      kafka: { brokers: kafka.brokers, client: kafka.client, clientId: `${kafka.clientId}-console`, ...(kafka.tls ? { tls: kafka.tls } : {}), ...(kafka.sasl ? { sasl: kafka.sasl } : {}) },
      metricsUrls: env.console.metricsUrls ?? LOCAL_METRICS_URLS,
    };
  } catch (err) {
    createLogger('console', 'info').fatal({ err: err instanceof Error ? err.message : String(err) }, 'invalid configuration');
    process.exit(EXIT_CONFIG);
  }
  try {
    const nest = await NestFactory.create(ConsoleModule.forRoot(ctx), { logger: new NestJsonLogger(ctx.logger), abortOnError: false });
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        ctx.logger.info({ signal }, 'shutting down');
        setTimeout(() => process.exit(1), ctx.env.shutdown.timeoutMs).unref();
        nest.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      });
    }
    await nest.listen(ctx.env.http.port, ctx.env.http.host);
    ctx.logger.info({ ...startupSummary(ctx.env, ctx.pipeline), metricsUrls: ctx.metricsUrls }, 'started');
  } catch (err) {
    ctx.logger.fatal({ err: err instanceof Error ? err.stack : String(err) }, 'start-up failed');
    process.exit(EXIT_STARTUP);
  }
}

void main();
