import { DataError } from '@sync/errors';
import { isInvalidDomainEvent, type DomainEvent, type InvalidDomainEvent } from './domain-event';

/**
 * What an `@EventPattern('<domain topic>')` handler receives from DomainEventsBatchServer: the
 * messages of one fetch of one topic-partition, in offset order (so per key in event order).
 * The handler writes them all or throws: its offsets are committed only after it resolved.
 */
export interface DomainEventBatch<T = Readonly<Record<string, unknown>>> {
  readonly topic: string;
  readonly partition: number;
  /** Every message of the batch; one that is not a valid domain event is an InvalidDomainEvent (see validEvents). */
  readonly events: ReadonlyArray<DomainEvent<T> | InvalidDomainEvent>;
  /** Tell the group this member is alive during long work (it is also called on a timer). */
  heartbeat(): Promise<void>;
}

/**
 * The valid events of a batch; throws a DataError naming the first invalid one. The server then
 * offers the batch's messages again one at a time, so the good ones are applied and the bad one
 * alone is dead-lettered (to `dlq.<app>`), without blocking the partition.
 */
export function validEvents<T>(batch: Pick<DomainEventBatch<T>, 'events'>): Array<DomainEvent<T>> {
  const out: Array<DomainEvent<T>> = [];
  for (const event of batch.events) {
    if (isInvalidDomainEvent(event)) throw new DataError(`${event.topic}[${event.partition}]@${event.offset}: ${event.invalid}`);
    out.push(event);
  }
  return out;
}
