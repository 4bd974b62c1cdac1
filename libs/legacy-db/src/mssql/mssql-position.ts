/**
 * Positions of the SQL Server capture sources, as opaque strings:
 * - rowversion sources: the last rowversion read, 16 hex digits ("00000000000007d1");
 * - CDC: "<lsn>" (every change committed at or below this LSN is read) or
 *   "<lsn>:<seqval>:<operation>" (inside one commit LSN, read up to this change), LSN and seqval
 *   as 20 hex digits each.
 */

const ROWVERSION = /^[0-9a-f]{16}$/;
const LSN = /^[0-9a-f]{20}$/;

export function encodeRowversion(value: Buffer): string {
  if (value.length !== 8) throw new Error(`a rowversion has 8 bytes, got ${value.length}`);
  return value.toString('hex');
}

export function decodeRowversion(position: string): Buffer {
  if (!ROWVERSION.test(position)) throw new Error(`invalid SQL Server rowversion position ${JSON.stringify(position)}`);
  return Buffer.from(position, 'hex');
}

/**
 * The position just below `watermark` (MIN_ACTIVE_ROWVERSION()): reading `rv > position` then
 * starts with the oldest rowversion any open transaction may still commit.
 */
export function rowversionBefore(watermark: Buffer): string {
  const n = BigInt(`0x${encodeRowversion(watermark)}`);
  return (n > 0n ? n - 1n : 0n).toString(16).padStart(16, '0');
}

export interface LsnPosition {
  readonly lsn: string;
  /** Set when the read stopped inside the commit LSN `lsn`: the last change read there. */
  readonly within: { readonly seqval: string; readonly operation: number } | null;
}

export function encodeLsn(value: Buffer): string {
  if (value.length !== 10) throw new Error(`an LSN has 10 bytes, got ${value.length}`);
  return value.toString('hex');
}

export function encodeLsnPosition(p: LsnPosition): string {
  return p.within ? `${p.lsn}:${p.within.seqval}:${p.within.operation}` : p.lsn;
}

export function decodeLsnPosition(position: string): LsnPosition {
  const [lsn, seqval, operation, ...rest] = position.split(':');
  const bad = (): Error => new Error(`invalid SQL Server CDC position ${JSON.stringify(position)}`);
  if (rest.length > 0 || lsn === undefined || !LSN.test(lsn)) throw bad();
  if (seqval === undefined && operation === undefined) return { lsn, within: null };
  if (seqval === undefined || !LSN.test(seqval) || operation === undefined || !/^[1-4]$/.test(operation)) throw bad();
  return { lsn, within: { seqval, operation: Number(operation) } };
}

export const lsnBuffer = (hex: string): Buffer => Buffer.from(hex, 'hex');
