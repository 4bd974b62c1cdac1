import { createHash } from 'node:crypto';

// Namespace of the key map's name-based UUIDs (RFC 9562 v5). Never change it: every stored global
// id of a legacy-born row was derived from it, and replays and replicas must derive the same ones.
const NAMESPACE = Buffer.from('3b7d5a0e9c2f4e81a6d4f0b2c8e71a93', 'hex');

function uuidV5(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Global id a legacy row gets on first sight: a function of system, table and canonical key only. */
export function legacyGlobalId(system: string, tableRef: string, localKey: string): string {
  return uuidV5(`legacy\u0000${system}\u0000${tableRef}\u0000${localKey}`);
}

/** Global id shared by every row of a merge group with the same canonical natural key. */
export function mergeGlobalId(group: string, naturalKey: string): string {
  return uuidV5(`merge\u0000${group}\u0000${naturalKey}`);
}
