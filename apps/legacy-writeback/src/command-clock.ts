import type { WritebackCommand } from '@sync/contracts';
import { DataError } from '@sync/errors';

/**
 * The clock guard and the time a command competes with in last-writer-wins (docs/legacy-writeback.md
 * "Clocks"). `occurredAt` is the producer's ce_time: a command claiming a time further than
 * `maxSkewMs` ahead of this process's clock is refused as data (it would win every later conflict).
 * Within the limit, the command's conflict time is the earlier of ce_time and the Kafka timestamp
 * of its resolved.* record (set by id-translation's producer, a clock the suite runs), so a
 * producer clock running slightly ahead cannot win a conflict it reached later.
 */
export function guardedCommand(command: WritebackCommand, kafkaTimestampMs: number, nowMs: number, maxSkewMs: number): WritebackCommand {
  const claimed = Date.parse(command.occurredAt);
  if (claimed - nowMs > maxSkewMs) {
    throw new DataError(
      `command ${command.commandId}: ce_time (occurredAt) ${command.occurredAt} is more than ${maxSkewMs} ms ahead of the write-back's clock (${new Date(nowMs).toISOString()}; limit legacyWriteback.maxClockSkewMs)`,
    );
  }
  if (!Number.isFinite(kafkaTimestampMs) || kafkaTimestampMs <= 0 || kafkaTimestampMs >= claimed) return command;
  return { ...command, occurredAt: new Date(kafkaTimestampMs).toISOString() };
}
