import type { LogSink } from './kafka.interface';

/** One kafkajs log line, as its logCreator hands it over (level mapped to a name). */
export interface KafkaLogLine {
  readonly namespace: string;
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * A warning kafkajs prints for every idempotent producer with a bounded retry count. SyncProducer
 * bounds its retries on purpose: a send that still fails is thrown to its caller, which retries the
 * whole batch (at-least-once, idempotent handlers), so nothing is lost and the warning is false.
 */
const FALSE_EOS_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/**
 * Routes kafkajs' log lines into the app's logger, without its noise: the false exactly-once
 * warning goes to debug, kafkajs' own copies of time and logger name are dropped, and a failed
 * connection to a seed broker becomes one warning carrying its cause, instead of the pair kafkajs
 * prints as two errors ("Connection error" with a stack, then "Failed to connect to seed broker")
 * for every retry. kafkajs retries those itself; a failure it gives up on reaches the caller, which
 * logs it once with its own context.
 */
export function kafkaLogBridge(log: LogSink): (line: KafkaLogLine) => void {
  let lastConnectionError: { broker: unknown; error: unknown } | undefined;
  return ({ namespace, level, message, fields }) => {
    const rest = Object.fromEntries(Object.entries(fields).filter(([name]) => name !== 'timestamp' && name !== 'logger'));
    const obj: Record<string, unknown> = { component: 'kafkajs', namespace, ...rest };
    if (message === FALSE_EOS_WARNING) return log.debug(obj, message);
    if (namespace === 'Connection' && message.startsWith('Connection error')) {
      lastConnectionError = { broker: rest['broker'], error: message.replace(/^Connection error:\s*/, '') };
      return log.debug(obj, message);
    }
    if (message.startsWith('Failed to connect to seed broker') && lastConnectionError !== undefined) {
      const { broker, error } = lastConnectionError;
      lastConnectionError = undefined;
      return log.warn({ component: 'kafkajs', namespace, broker, error, retryCount: rest['retryCount'], retryTime: rest['retryTime'] }, 'cannot connect to a seed broker, retrying');
    }
    log[level](obj, message);
  };
}
