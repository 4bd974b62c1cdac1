import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { DynamicModule } from '@nestjs/common';
import { ConfigValidationError, describeEnv, loadEnv, resolveKafkaSettings } from '@sync/config';
import { appMappers } from '@sync/custom-mappers';
import { loadCheckedPipeline } from '@sync/mapping';
import type { AppEnv, AppName, PipelineConfig } from '@sync/config';
import { topicPolicy } from '@sync/contracts';
import { createLogger, NestJsonLogger } from '@sync/observability';
import type { AppContext } from './app-context';

import { EXIT_CONFIG, EXIT_SHUTDOWN_TIMEOUT, EXIT_STARTUP } from './exit-codes';
import { applyHeapFlags } from './heap-tuning';

export { EXIT_CONFIG, EXIT_STARTUP } from './exit-codes';

/**
 * Starts one app: validates the environment and the pipeline file before anything connects
 * (a bad one exits with EXIT_CONFIG and every problem listed), then serves probes and metrics.
 */
export async function runApp(app: AppName, module: (ctx: AppContext) => DynamicModule): Promise<void> {
  const early = createLogger(app, 'info');
  let ctx: AppContext;
  try {
    const env = loadEnv(undefined, { app, requireApp: true });
    // Before the pipeline and the modules allocate: bounds how far the old generation outgrows its live data.
    applyHeapFlags(env.memory);
    // The whole pipeline (mappings included), as `sync-ctl validate` checks it: a file one app
    // would refuse stops every app, not only the one that reads the broken section.
    const { pipeline, warnings } = loadCheckedPipeline(env.pipelineFile, appMappers());
    const logger = createLogger(app, env.log.level, undefined, env.log.modules ?? {});
    // Said once, by the app that runs the rules, not four times.
    if (app === 'domain-transform') for (const warning of warnings) logger.warn({ path: warning.path }, `pipeline: ${warning.message}`);
    const kafka = resolveKafkaSettings(pipeline, env);
    ctx = {
      app,
      env,
      pipeline,
      logger,
      kafka: { brokers: kafka.brokers, client: kafka.client, clientId: `${kafka.clientId}-${app}`, ...(kafka.tls ? { tls: kafka.tls } : {}), ...(kafka.sasl ? { sasl: kafka.sasl } : {}) },
      topicPolicy: topicPolicy(kafka.topics),
    };
  } catch (err) {
    early.fatal({ err: err instanceof Error ? err.message : String(err) }, 'invalid configuration');
    process.exit(EXIT_CONFIG);
  }
  try {
    const nest = await NestFactory.create(module(ctx), { logger: new NestJsonLogger(ctx.logger), abortOnError: false });
    const timeoutMs = ctx.env.shutdown.timeoutMs;
    // Not Nest's enableShutdownHooks: it re-raises the signal after closing, so a clean stop would
    // end as "killed by SIGTERM"; here a clean stop exits 0 and an overrun exits 1.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        ctx.logger.info({ signal, timeoutMs }, 'shutting down');
        // Bounded: if in-flight work cannot finish in time, leave; uncommitted work is redelivered.
        setTimeout(() => {
          ctx.logger.error({ timeoutMs }, 'shutdown timed out');
          process.exit(EXIT_SHUTDOWN_TIMEOUT);
        }, timeoutMs).unref();
        nest.close().then(
          () => process.exit(0),
          (err: unknown) => {
            ctx.logger.error({ err: err instanceof Error ? err.stack : String(err) }, 'shutdown failed');
            process.exit(EXIT_SHUTDOWN_TIMEOUT);
          },
        );
      });
    }
    await nest.listen(ctx.env.http.port, ctx.env.http.host);
    ctx.logger.info(startupSummary(ctx.env, ctx.pipeline), 'started');
  } catch (err) {
    // Secrets of legacy databases are read when their module starts: a missing one is still a configuration error.
    if (configError(err)) {
      ctx.logger.fatal({ err: configError(err)!.message }, 'invalid configuration');
      process.exit(EXIT_CONFIG);
    }
    ctx.logger.fatal({ err: err instanceof Error ? err.stack : String(err), ...startupSummary(ctx.env, ctx.pipeline) }, 'start-up failed');
    process.exit(EXIT_STARTUP);
  }
}

/** The suite's version (package.json at the repository or image root), or "unknown". */
export function suiteVersion(): string {
  try {
    // dist/libs/app-core/src → the root, in a checkout and in the image alike.
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The one start-up line's fields: version, Node, port, entities and the effective settings (secrets as ***). */
export function startupSummary(env: AppEnv, pipeline: PipelineConfig): Record<string, unknown> {
  const entities = [...pipeline.systems.values()].flatMap((s) => s.tables.map((t) => `${s.name}.${t.schema}.${t.name}`));
  return { version: suiteVersion(), node: process.version, port: env.http.port, entities, env: describeEnv(env) };
}

/** The ConfigValidationError behind a start-up failure, if any (Nest may wrap it as the cause). */
function configError(err: unknown): ConfigValidationError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof ConfigValidationError) return e;
  }
  return undefined;
}
