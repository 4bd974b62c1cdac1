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

/** The dead letter for a message: same key and value, original headers kept, the failure added. */
export function deadLetterRecord(app: string, message: InboundMessage, kind: ClassifiedKind, err: unknown, attempts: number, now: Date): OutboundRecord {
  return {
    topic: `dlq.${app}`,
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      [DLQ_HEADERS.reason]: errorMessage(err).slice(0, MAX_REASON),
      [DLQ_HEADERS.errorKind]: kind,
      [DLQ_HEADERS.app]: app,
      [DLQ_HEADERS.sourceTopic]: message.topic,
      [DLQ_HEADERS.sourcePartition]: String(message.partition),
      [DLQ_HEADERS.sourceOffset]: message.offset,
      [DLQ_HEADERS.attempts]: String(attempts),
      [DLQ_HEADERS.failedAt]: now.toISOString(),
    },
  };
}
