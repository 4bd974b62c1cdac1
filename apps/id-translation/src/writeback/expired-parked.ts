import { deadLetterRecord, type InboundMessage, type OutboundRecord } from '@sync/kafka';
import type { ParkedCommand } from '@sync/keymap';

/** The dead letter of a command parked longer than `parkTimeoutMs`, as its original message. */
export function expiredDeadLetter(app: string, p: ParkedCommand, parkTimeoutMs: number, now: Date): OutboundRecord {
  const message: InboundMessage = { topic: p.sourceTopic, partition: p.sourcePartition, offset: p.sourceOffset, key: p.messageKey === null ? null : Buffer.from(p.messageKey), value: Buffer.from(p.messageValue), headers: p.headers, timestamp: String(p.parkedAt.getTime()) };
  const waited = Math.round((now.getTime() - p.parkedAt.getTime()) / 1000);
  const reason = new Error(`parked for ${waited} s, longer than the limit of ${Math.round(parkTimeoutMs / 1000)} s (idTranslation.parkTimeoutMs): ${p.reason}`);
  return deadLetterRecord(app, message, 'data', reason, 1, now);
}
