import { cleanText } from './clean-text';
/** Header names every message carries (docs/architecture.md "Contracts"). */
export const Headers = {
  eventId: 'event-id',
  origin: 'origin',
  causationId: 'causation-id',
} as const;

/**
 * Headers of a primary-key update, which is published as a delete of the old key and a create of
 * the new key (Debezium's names and values: the other key as its JSON message key). The delete
 * carries the new key, the create the old one; id-translation moves the row's global id with them.
 */
export const RekeyHeaders = {
  oldKey: '__debezium.oldkey',
  newKey: '__debezium.newkey',
} as const;

export type HeaderMap = Readonly<Record<string, string>>;

/** Origin value for changes made by a legacy system (as opposed to a new service or the suite). */
export function legacyOrigin(system: string): string {
  return `legacy:${system}`;
}

/**
 * Checks every header of an incoming message: a NUL or a lone surrogate in any of them (origin,
 * causation-id, ce_subject, ...) is a ContractError naming the header. Headers are carried on,
 * stored with parked commands and bound as query parameters, where such text fails every time.
 */
export function assertCleanHeaders(headers: HeaderMap): void {
  for (const [name, value] of Object.entries(headers)) {
    cleanText(`header ${name.replace(/[^\x20-\x7e]/g, '?')} (name)`, name);
    cleanText(`header ${name}`, value);
  }
}
