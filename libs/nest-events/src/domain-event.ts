import { ContractError } from '@sync/contracts';
import { decodeDomainEvent, LEGACY_VERSION_EXTENSION, type LegacyVersionRef } from '@sync/mapping';

/**
 * A domain event of the suite as a NestJS handler receives it: the CloudEvents attributes, the
 * data typed by the handler, every Kafka header as sent, and where it was read from.
 */
export interface DomainEvent<T = Readonly<Record<string, unknown>>> {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  /** Global id of the aggregate (also the message key). */
  readonly subject: string;
  readonly time: string | undefined;
  readonly dataschema: string | undefined;
  readonly data: T;
  /** `ce_legacyversion`: the legacy row version the event shows; send it back as `basedOn`. */
  readonly legacyVersion: string | undefined;
  /** `ce_basedon` of an event a new service sent. */
  readonly basedOn: LegacyVersionRef | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** A message on a domain topic that is not a valid domain event: handed to the handler so it can skip it, never thrown. */
export interface InvalidDomainEvent {
  readonly invalid: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** The Kafka message as @nestjs/microservices' KafkaParser hands it over with `keepBinary: true`. */
export interface RawKafkaMessage {
  readonly key?: Buffer | string | null;
  readonly value?: Buffer | string | null;
  readonly headers?: Readonly<Record<string, unknown>>;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;
}

export function isInvalidDomainEvent(event: DomainEvent<unknown> | InvalidDomainEvent): event is InvalidDomainEvent {
  return 'invalid' in event;
}

/** Reads a domain event from a raw Kafka message; anything that is not one becomes an InvalidDomainEvent saying why. */
export function toDomainEvent(raw: RawKafkaMessage): DomainEvent<unknown> | InvalidDomainEvent {
  const headers = stringHeaders(raw.headers);
  const where = { topic: raw.topic ?? '', partition: raw.partition ?? -1, offset: raw.offset ?? '' };
  try {
    const decoded = decodeDomainEvent({ key: raw.key ?? null, value: raw.value ?? null, headers });
    if (decoded.subject === undefined) throw new ContractError('ce_subject missing (a domain event names its aggregate)');
    if (decoded.data === null || typeof decoded.data !== 'object' || Array.isArray(decoded.data)) throw new ContractError('message value: data is not a JSON object');
    return {
      id: decoded.id,
      source: decoded.source,
      type: decoded.type,
      subject: decoded.subject,
      time: decoded.time,
      dataschema: decoded.dataschema,
      data: decoded.data,
      legacyVersion: headers[`ce_${LEGACY_VERSION_EXTENSION}`],
      basedOn: decoded.basedOn,
      headers,
      ...where,
    };
  } catch (err) {
    if (!(err instanceof ContractError)) throw err;
    return { invalid: err.message, headers, ...where };
  }
}

function allStrings(headers: Readonly<Record<string, unknown>>): headers is Readonly<Record<string, string>> {
  for (const name of Object.keys(headers)) if (typeof headers[name] !== 'string') return false;
  return true;
}

function stringHeaders(headers: Readonly<Record<string, unknown>> | undefined): Readonly<Record<string, string>> {
  if (headers === undefined) return {};
  // Already strings (the batch transport's messages): used as they are, no copy per message.
  if (allStrings(headers)) return headers;
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
    else if (Buffer.isBuffer(value)) out[name] = value.toString('utf8');
    else if (Array.isArray(value) && value.length > 0) out[name] = String(value[value.length - 1]);
    // Nest's KafkaParser JSON-parses a header that starts with { or [ (none of the suite's do).
    else if (value !== null && typeof value === 'object') out[name] = JSON.stringify(value);
  }
  return out;
}
