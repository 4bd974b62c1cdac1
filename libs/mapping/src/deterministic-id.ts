import { createHash } from 'node:crypto';

// Fixed namespace for the suite's name-based UUIDs (RFC 9562 v5): any replica derives the same id.
const NAMESPACE = Buffer.from('6f1c2a52b8e94a0e9d5f3c7e1b2a4d60', 'hex');

/**
 * A UUID v5 derived from the input event id and the rule that produced the output, so a
 * redelivered input yields byte-identical outputs that downstream consumers can de-duplicate.
 */
export function deterministicId(inputEventId: string, rule: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(`${inputEventId}\u0000${rule}`, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Identity of a domain event as a command source: CloudEvents ids are unique only per `source`
 * (two services may both send id `1`), so the pair is the identity. JSON keeps it unambiguous.
 */
export function domainEventIdentity(source: string, id: string): string {
  return JSON.stringify([source, id]);
}
