import { errorMessage, type ClassifiedKind } from '@sync/errors';
import type { InboundMessage, OutboundRecord } from './kafka.interface';

/** Header names on dead letters (mirrored in @sync/contracts Headers). */
export const DLQ_HEADERS = {
  reason: 'dlq-reason',
  errorKind: 'dlq-error-kind',
  app: 'dlq-app',
  sourceTopic: 'dlq-source-topic',
  sourcePartition: 'dlq-source-partition',
  sourceOffset: 'dlq-source-offset',
  attempts: 'dlq-attempts',
  failedAt: 'dlq-failed-at',
  /** Present only when the dead letter was cut to fit: `value=<bytes>,key=<bytes>,headers=<names>` of the originals. */
  truncated: 'dlq-truncated',
} as const;

/**
 * Headers `sync-ctl dlq replay` adds to a replayed message. They are not failure headers: they stay
 * on the message, so a replayed message that fails again carries its replay count into the DLQ.
 */
export const DLQ_REPLAY_HEADERS = {
  replayCount: 'dlq-replay-count',
  replayedAt: 'dlq-replayed-at',
  replayedFrom: 'dlq-replayed-from',
} as const;

const MAX_REASON = 2000;

/**
 * Default cap on a dead letter's value (bytes). The broker's default message limit is 1 MiB: the
 * value, the key (at most a quarter of this cap) and the headers (each original header value at
 * most 4 KiB) stay below it, so writing a dead letter cannot fail for size and retry for ever.
 */
export const DEAD_LETTER_MAX_BYTES = 512 * 1024;
const MAX_HEADER_BYTES = 4 * 1024;

export interface DeadLetterOptions {
  /** Cap on the dead letter's value in bytes (the key gets a quarter of it); default 512 KiB. */
  readonly maxBytes?: number;
}

function cut(buffer: Buffer, max: number): Buffer {
  return buffer.length > max ? buffer.subarray(0, max) : buffer;
}

/**
 * The dead letter for a message: same key and value, original headers kept, the failure added.
 * An oversize value, key or header is cut to the cap and `dlq-truncated` gives the original sizes.
 */
export function deadLetterRecord(
  app: string,
  message: InboundMessage,
  kind: ClassifiedKind,
  err: unknown,
  attempts: number,
  now: Date,
  options: DeadLetterOptions = {},
): OutboundRecord {
  const maxValue = Math.max(1024, options.maxBytes ?? DEAD_LETTER_MAX_BYTES);
  const maxKey = Math.floor(maxValue / 4);
  const truncated: string[] = [];
  let value = message.value;
  if (value && value.length > maxValue) {
    truncated.push(`value=${value.length}`);
    value = cut(value, maxValue);
  }
  let key = message.key;
  if (key && key.length > maxKey) {
    truncated.push(`key=${key.length}`);
    key = cut(key, maxKey);
  }
  const headers: Record<string, string> = {};
  const cutHeaders: string[] = [];
  for (const [name, text] of Object.entries(message.headers)) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_HEADER_BYTES) {
      cutHeaders.push(`${name.slice(0, 100)}:${bytes}`);
      headers[name.slice(0, 256)] = cut(Buffer.from(text, 'utf8'), MAX_HEADER_BYTES).toString('utf8');
    } else headers[name.slice(0, 256)] = text;
  }
  if (cutHeaders.length > 0) truncated.push(`headers=${cutHeaders.slice(0, 20).join(';')}`);
  return {
    topic: `dlq.${app}`,
    key,
    value,
    headers: {
      ...headers,
      [DLQ_HEADERS.reason]: errorMessage(err).slice(0, MAX_REASON),
      [DLQ_HEADERS.errorKind]: kind,
      [DLQ_HEADERS.app]: app,
      [DLQ_HEADERS.sourceTopic]: message.topic,
      [DLQ_HEADERS.sourcePartition]: String(message.partition),
      [DLQ_HEADERS.sourceOffset]: message.offset,
      [DLQ_HEADERS.attempts]: String(attempts),
      [DLQ_HEADERS.failedAt]: now.toISOString(),
      ...(truncated.length > 0 ? { [DLQ_HEADERS.truncated]: truncated.join(',') } : {}),
    },
  };
}
