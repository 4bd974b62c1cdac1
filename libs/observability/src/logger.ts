import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

export type AppLogger = Logger;

const REDACT = ['password', '*.password', 'secret', '*.secret', 'token', '*.token', 'authorization', '*.authorization', 'sasl.password'];

/** Which module a line belongs to, for LOG_LEVEL_MODULES: kafkajs' lines, Nest's, or the app's own. */
function moduleOf(first: unknown): string {
  if (typeof first !== 'object' || first === null) return 'app';
  if ((first as { component?: unknown }).component === 'kafkajs') return 'kafkajs';
  return 'context' in first ? 'nest' : 'app';
}

/**
 * JSON logger for one app; fields that look like secrets are redacted whatever a caller passes.
 * `modules` sets a level per module (`app`, `kafkajs`, `nest`) instead of `level`.
 */
export function createLogger(app: string, level: string, destination?: pino.DestinationStream, modules: Readonly<Record<string, string>> = {}): AppLogger {
  const values = pino.levels.values;
  const threshold = (module: string): number => values[modules[module] ?? level] ?? values[level]!;
  const lowest = [level, ...Object.values(modules)].reduce((a, b) => ((values[b] ?? Infinity) < (values[a] ?? Infinity) ? b : a));
  const perModule = Object.keys(modules).length > 0;
  return pino(
    {
      level: lowest,
      ...(perModule
        ? {
            hooks: {
              logMethod(this: Logger, args: Parameters<pino.LogFn>, method: pino.LogFn, levelValue: number): void {
                if (levelValue >= threshold(moduleOf(args[0]))) method.apply(this, args);
              },
            },
          }
        : {}),
      base: { app, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '***' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/**
 * Nest's start-up chatter (one line per module loaded and per route mapped): kept at debug, so an
 * app's start at info is its own lines only.
 */
const NEST_BOOT_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/** Lets Nest's own messages go through the same JSON logger. */
export class NestJsonLogger implements LoggerService {
  constructor(private readonly logger: AppLogger) {}

  log(message: unknown, context?: string): void {
    if (context !== undefined && NEST_BOOT_CONTEXTS.has(context)) this.logger.debug({ context }, String(message));
    else this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
