// The pgoutput logical replication protocol, version 1 (PostgreSQL 10+): the few messages the
// logical capture needs, decoded into plain objects with column values kept as PostgreSQL text.
// https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
// Pure: no I/O. The replication stream hands it the payload of each XLogData message.

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000;

export type ReplicaIdentity = 'default' | 'nothing' | 'full' | 'index';

export interface PgRelation {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  readonly identity: ReplicaIdentity;
  readonly columns: readonly { readonly name: string; readonly key: boolean; readonly typeOid: number }[];
}

/** A tuple's values as PostgreSQL text; null for SQL NULL; `unchanged` lists TOASTed values the server did not resend. */
export interface PgTuple {
  readonly values: Record<string, string | null>;
  readonly unchanged: readonly string[];
}

export type PgOutputMessage =
  | { readonly tag: 'begin'; readonly finalLsn: bigint; readonly commitTime: Date; readonly xid: number }
  | { readonly tag: 'commit'; readonly commitLsn: bigint; readonly endLsn: bigint; readonly commitTime: Date }
  | { readonly tag: 'origin'; readonly name: string }
  | { readonly tag: 'relation'; readonly relation: PgRelation }
  | { readonly tag: 'type' }
  | { readonly tag: 'insert'; readonly relationOid: number; readonly after: PgTuple }
  | { readonly tag: 'update'; readonly relationOid: number; readonly old: PgTuple | null; readonly oldIsKey: boolean; readonly after: PgTuple }
  | { readonly tag: 'delete'; readonly relationOid: number; readonly old: PgTuple; readonly oldIsKey: boolean }
  | { readonly tag: 'truncate'; readonly relationOids: readonly number[] }
  | { readonly tag: 'message'; readonly transactional: boolean; readonly prefix: string; readonly content: string };

/** An LSN as PostgreSQL prints it (`16/B374D848`). */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Parses `16/B374D848`; throws for anything else. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new Error(`not a PostgreSQL LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]!}`) << 32n) | BigInt(`0x${m[2]!}`);
}

/** A PostgreSQL timestamp (microseconds since 2000-01-01) as a Date (millisecond precision). */
export function pgTime(micros: bigint): Date {
  return new Date(PG_EPOCH_MS + Number(micros / 1000n));
}

/** Microseconds since 2000-01-01 for a Unix time in milliseconds. */
export function pgMicros(unixMs: number): bigint {
  return BigInt(unixMs - PG_EPOCH_MS) * 1000n;
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  u8(): number {
    return this.buf.readUInt8(this.at++);
  }
  i16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  u32(): number {
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  u64(): bigint {
    const v = this.buf.readBigUInt64BE(this.at);
    this.at += 8;
    return v;
  }
  i64(): bigint {
    const v = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return v;
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.at);
    if (end < 0) throw new Error('pgoutput: unterminated string');
    const s = this.buf.toString('utf8', this.at, end);
    this.at = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
}

const IDENTITIES: Record<string, ReplicaIdentity> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };

/**
 * Decodes one pgoutput message. `relations` resolves column names (Relation messages always come
 * before the first change of a relation in a stream); the caller keeps it up to date.
 */
export function decodePgOutput(buf: Buffer, relations: ReadonlyMap<number, PgRelation>): PgOutputMessage {
  const r = new Reader(buf);
  const tag = String.fromCharCode(r.u8());
  switch (tag) {
    case 'B':
      return { tag: 'begin', finalLsn: r.u64(), commitTime: pgTime(r.i64()), xid: r.u32() };
    case 'C': {
      r.u8(); // flags, unused
      return { tag: 'commit', commitLsn: r.u64(), endLsn: r.u64(), commitTime: pgTime(r.i64()) };
    }
    case 'O':
      r.u64();
      return { tag: 'origin', name: r.cstring() };
    case 'R': {
      const oid = r.u32();
      const schema = r.cstring() || 'pg_catalog';
      const name = r.cstring();
      const identity = IDENTITIES[String.fromCharCode(r.u8())] ?? 'default';
      const n = r.i16();
      const columns: { name: string; key: boolean; typeOid: number }[] = [];
      for (let i = 0; i < n; i++) {
        const flags = r.u8();
        const column = r.cstring();
        const typeOid = r.u32();
        r.i32(); // type modifier
        columns.push({ name: column, key: (flags & 1) === 1, typeOid });
      }
      return { tag: 'relation', relation: { oid, schema, name, identity, columns } };
    }
    case 'Y':
      return { tag: 'type' };
    case 'I': {
      const oid = r.u32();
      expect(r, 'N');
      return { tag: 'insert', relationOid: oid, after: tuple(r, relation(relations, oid)) };
    }
    case 'U': {
      const oid = r.u32();
      const rel = relation(relations, oid);
      let kind = String.fromCharCode(r.u8());
      let old: PgTuple | null = null;
      let oldIsKey = false;
      if (kind === 'K' || kind === 'O') {
        old = tuple(r, rel);
        oldIsKey = kind === 'K';
        kind = String.fromCharCode(r.u8());
      }
      if (kind !== 'N') throw new Error(`pgoutput: unexpected update tuple kind ${kind}`);
      return { tag: 'update', relationOid: oid, old, oldIsKey, after: tuple(r, rel) };
    }
    case 'D': {
      const oid = r.u32();
      const kind = String.fromCharCode(r.u8());
      if (kind !== 'K' && kind !== 'O') throw new Error(`pgoutput: unexpected delete tuple kind ${kind}`);
      return { tag: 'delete', relationOid: oid, old: tuple(r, relation(relations, oid)), oldIsKey: kind === 'K' };
    }
    case 'T': {
      const n = r.i32();
      r.u8();
      const oids: number[] = [];
      for (let i = 0; i < n; i++) oids.push(r.u32());
      return { tag: 'truncate', relationOids: oids };
    }
    case 'M': {
      const flags = r.u8();
      r.u64();
      const prefix = r.cstring();
      const content = r.bytes(r.i32()).toString('utf8');
      return { tag: 'message', transactional: (flags & 1) === 1, prefix, content };
    }
    default:
      throw new Error(`pgoutput: unknown message type ${JSON.stringify(tag)}`);
  }
}

function expect(r: Reader, kind: string): void {
  const got = String.fromCharCode(r.u8());
  if (got !== kind) throw new Error(`pgoutput: expected tuple kind ${kind}, got ${got}`);
}

function relation(relations: ReadonlyMap<number, PgRelation>, oid: number): PgRelation {
  const rel = relations.get(oid);
  if (!rel) throw new Error(`pgoutput: change for relation ${oid} before its Relation message`);
  return rel;
}

function tuple(r: Reader, rel: PgRelation): PgTuple {
  const n = r.i16();
  const values: Record<string, string | null> = {};
  const unchanged: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = rel.columns[i]?.name ?? `column_${i + 1}`;
    const kind = String.fromCharCode(r.u8());
    if (kind === 'n') values[name] = null;
    else if (kind === 'u') unchanged.push(name);
    else if (kind === 't' || kind === 'b') values[name] = r.bytes(r.i32()).toString('utf8');
    else throw new Error(`pgoutput: unknown tuple value kind ${kind}`);
  }
  return { values, unchanged };
}

/** The payload of a standby status update: everything up to `flush` is written, flushed and applied. */
export function standbyStatusUpdate(flush: bigint, nowMs: number, replyRequested = false): Buffer {
  const b = Buffer.alloc(34);
  b.write('r', 0, 'latin1');
  b.writeBigUInt64BE(flush, 1);
  b.writeBigUInt64BE(flush, 9);
  b.writeBigUInt64BE(flush, 17);
  b.writeBigInt64BE(pgMicros(nowMs), 25);
  b.writeUInt8(replyRequested ? 1 : 0, 33);
  return b;
}

/** A CopyData message of the replication stream: WAL data ('w') or a primary keepalive ('k'). */
export type StreamFrame =
  | { readonly kind: 'data'; readonly walStart: bigint; readonly walEnd: bigint; readonly payload: Buffer }
  | { readonly kind: 'keepalive'; readonly walEnd: bigint; readonly replyRequested: boolean };

export function decodeStreamFrame(buf: Buffer): StreamFrame | undefined {
  const kind = String.fromCharCode(buf.readUInt8(0));
  if (kind === 'w') return { kind: 'data', walStart: buf.readBigUInt64BE(1), walEnd: buf.readBigUInt64BE(9), payload: buf.subarray(25) };
  if (kind === 'k') return { kind: 'keepalive', walEnd: buf.readBigUInt64BE(1), replyRequested: buf.readUInt8(17) === 1 };
  return undefined;
}
