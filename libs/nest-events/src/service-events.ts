import { randomUUID } from 'node:crypto';
import type { ClientKafka } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { Headers } from '@sync/contracts';
import { BASED_ON_EXTENSION, encodeDomainEvent } from '@sync/mapping';

/** A change the service made, to send to the legacy side through the suite's reverse path. */
export interface ServiceChange {
  /** CloudEvents id; random when absent. Give the same id to send again after a failed send (no second event). */
  readonly id?: string;
  readonly type: string;
  /** Global id of the aggregate. */
  readonly subject: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** The legacy version the change was made on (the last applied event's `legacyVersion`): lets write-back detect conflicts. */
  readonly basedOn?: string;
}

export interface ServiceEventsOptions {
  /** CloudEvents source of the service, e.g. `urn:new-service:crm`. */
  readonly source: string;
  /** Origin header value: the service recognises (and skips) its own events when they come back. */
  readonly origin: string;
  /** Aggregate name used in the dataschema URI (`urn:legacy-sync:schema:<aggregate>:v1:<type>`). */
  readonly aggregate: string;
}

/** The Kafka message (CloudEvents binary mode) for one service change, as ClientKafka.emit sends it. */
export function serviceEventMessage(change: ServiceChange, options: ServiceEventsOptions, now = new Date()): { key: string; value: string; headers: Record<string, string> } {
  const id = change.id ?? randomUUID();
  const encoded = encodeDomainEvent({
    id,
    source: options.source,
    type: change.type,
    subject: change.subject,
    time: now.toISOString(),
    dataschema: `urn:legacy-sync:schema:${options.aggregate}:v1:${change.type}`,
    data: change.data,
    ...(change.basedOn !== undefined && { extensions: { [BASED_ON_EXTENSION]: change.basedOn } }),
  });
  return { key: encoded.key, value: encoded.value, headers: { ...encoded.headers, [Headers.eventId]: id, [Headers.origin]: options.origin, [Headers.causationId]: id } };
}

/**
 * Sends the service's changes with @nestjs/microservices' ClientKafka to the aggregate's domain
 * topic, where domain-transform turns them into legacy write-back commands. Resolves once the
 * broker acknowledged the event.
 */
export class ServiceEvents {
  constructor(
    private readonly client: ClientKafka,
    private readonly options: ServiceEventsOptions,
  ) {}

  async send(topic: string, change: ServiceChange): Promise<void> {
    await lastValueFrom(this.client.emit(topic, serviceEventMessage(change, this.options)));
  }

  /**
   * True for an event this service sent itself (it comes back on the same topic; already applied),
   * read from its origin header, so also for a message that does not decode (an InvalidDomainEvent).
   */
  isOwn(event: { readonly headers: Readonly<Record<string, string>> }): boolean {
    return event.headers[Headers.origin] === this.options.origin;
  }
}
