import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigValidationError, parsePipeline } from '@sync/config';
import { changelogDdl } from '@sync/legacy-db';
import { decodePgOutput, decodeStreamFrame, formatLsn, parseLsn, pgMicros, standbyStatusUpdate, type PgRelation } from '../../../libs/legacy-db/src/postgres/pgoutput.decoder';
import { jsonLikeValue } from '../../../libs/legacy-db/src/postgres/pgoutput-values';
import { identityProblem, logicalNames } from '../../../libs/legacy-db/src/postgres/postgres-logical.ddl';
import { slotWarning } from '../../../apps/legacy-import/src/table-capture.runner';

// pgoutput wire format helpers (protocol-logicalrep-message-formats, proto_version 1).
const u8 = (c: string | number): Buffer => Buffer.from([typeof c === 'string' ? c.charCodeAt(0) : c]);
const i16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const i32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  if (n < 0) b.writeInt32BE(n);
  else b.writeUInt32BE(n);
  return b;
};
const i64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
};
const str = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), u8(0)]);
const text = (s: string): Buffer => Buffer.concat([u8('t'), i32(Buffer.byteLength(s)), Buffer.from(s, 'utf8')]);
const tuple = (...cols: Buffer[]): Buffer => Buffer.concat([i16(cols.length), ...cols]);

const REL: PgRelation = {
  oid: 42,
  schema: 'public',
  name: 'users',
  identity: 'default',
  columns: [
    { name: 'id', key: true, typeOid: 23 },
    { name: 'name', key: false, typeOid: 25 },
    { name: 'bio', key: false, typeOid: 25 },
  ],
};
const RELS = new Map([[42, REL]]);

describe('pgoutput decoding (proto 1)', () => {
  it('reads LSNs and times', () => {
    assert.equal(formatLsn(parseLsn('16/B374D848')), '16/B374D848');
    assert.equal(parseLsn('0/10'), 16n);
    assert.throws(() => parseLsn('16-B3'), /not a PostgreSQL LSN/);
    const at = Date.UTC(2026, 10, 24, 9, 0, 0, 500);
    const begin = decodePgOutput(Buffer.concat([u8('B'), i64(0x1_0000_0010n), i64(pgMicros(at)), i32(4_000_000_000)]), RELS);
    assert.deepEqual(begin, { tag: 'begin', finalLsn: 0x1_0000_0010n, commitTime: new Date(at), xid: 4_000_000_000 });
    const commit = decodePgOutput(Buffer.concat([u8('C'), u8(0), i64(100n), i64(160n), i64(pgMicros(at))]), RELS);
    assert.deepEqual(commit, { tag: 'commit', commitLsn: 100n, endLsn: 160n, commitTime: new Date(at) });
  });

  it('reads a Relation message with its key columns and identity', () => {
    const msg = decodePgOutput(
      Buffer.concat([u8('R'), i32(7), str(''), str('t'), u8('f'), i16(2), u8(1), str('id'), i32(23), i32(-1), u8(0), str('v'), i32(25), i32(-1)]),
      RELS,
    );
    assert.deepEqual(msg, { tag: 'relation', relation: { oid: 7, schema: 'pg_catalog', name: 't', identity: 'full', columns: [{ name: 'id', key: true, typeOid: 23 }, { name: 'v', key: false, typeOid: 25 }] } });
  });

  it('reads inserts, key-changing updates, deletes, NULLs and unchanged TOAST values', () => {
    const ins = decodePgOutput(Buffer.concat([u8('I'), i32(42), u8('N'), tuple(text('1'), text('Zoë'), u8('n'))]), RELS);
    assert.deepEqual(ins, { tag: 'insert', relationOid: 42, after: { values: { id: '1', name: 'Zoë', bio: null }, unchanged: [] } });
    const upd = decodePgOutput(Buffer.concat([u8('U'), i32(42), u8('K'), tuple(text('1'), u8('n'), u8('n')), u8('N'), tuple(text('2'), text('Zoë'), u8('u'))]), RELS);
    assert.deepEqual(upd, {
      tag: 'update',
      relationOid: 42,
      old: { values: { id: '1', name: null, bio: null }, unchanged: [] },
      oldIsKey: true,
      after: { values: { id: '2', name: 'Zoë' }, unchanged: ['bio'] },
    });
    const plain = decodePgOutput(Buffer.concat([u8('U'), i32(42), u8('N'), tuple(text('2'), text('Z'), u8('n'))]), RELS);
    assert.equal(plain.tag === 'update' && plain.old, null);
    const del = decodePgOutput(Buffer.concat([u8('D'), i32(42), u8('K'), tuple(text('2'), u8('n'), u8('n'))]), RELS);
    assert.deepEqual(del, { tag: 'delete', relationOid: 42, old: { values: { id: '2', name: null, bio: null }, unchanged: [] }, oldIsKey: true });
    assert.throws(() => decodePgOutput(Buffer.concat([u8('I'), i32(99), u8('N'), tuple()]), RELS), /relation 99 before its Relation message/);
  });

  it('reads the write-back origin message and the origin of replicated transactions', () => {
    const msg = decodePgOutput(Buffer.concat([u8('M'), u8(1), i64(5n), str('sync.origin'), i32(10), Buffer.from('svc:orders')]), RELS);
    assert.deepEqual(msg, { tag: 'message', transactional: true, prefix: 'sync.origin', content: 'svc:orders' });
    assert.deepEqual(decodePgOutput(Buffer.concat([u8('O'), i64(5n), str('node_a')]), RELS), { tag: 'origin', name: 'node_a' });
    assert.throws(() => decodePgOutput(u8('Z'), RELS), /unknown message type/);
  });

  it('frames the stream: XLogData, keepalive, and the standby status update', () => {
    const data = decodeStreamFrame(Buffer.concat([u8('w'), i64(1n), i64(2n), i64(3n), u8('B')]));
    assert.equal(data?.kind, 'data');
    assert.deepEqual(data?.kind === 'data' && [...data.payload], [66]);
    assert.deepEqual(decodeStreamFrame(Buffer.concat([u8('k'), i64(77n), i64(0n), u8(1)])), { kind: 'keepalive', walEnd: 77n, replyRequested: true });
    const status = standbyStatusUpdate(0x2_0000_0100n, Date.UTC(2026, 0, 1));
    assert.equal(status.length, 34);
    assert.equal(String.fromCharCode(status[0]!), 'r');
    // The flush position is exactly what was acknowledged (not one past it: a commit could start there).
    assert.equal(status.readBigUInt64BE(9), 0x2_0000_0100n);
  });
});

describe('logical capture: values, identity, names, slot warnings, configuration', () => {
  it('gives pgoutput text the form of the trigger mode\'s to_jsonb image', () => {
    assert.equal(jsonLikeValue('2026-11-24 09:00:00.5+00', 'timestamptz'), '2026-11-24T09:00:00.5+00:00');
    assert.equal(jsonLikeValue('2026-11-24 09:00:00+05:30', 'timestamptz'), '2026-11-24T09:00:00+05:30');
    assert.equal(jsonLikeValue('2026-11-24 09:00:00', 'timestamp'), '2026-11-24T09:00:00');
    assert.equal(jsonLikeValue('infinity', 'timestamp'), 'infinity');
    assert.equal(jsonLikeValue('t', 'bool'), true);
    assert.equal(jsonLikeValue('f', 'bool'), false);
    assert.equal(jsonLikeValue(null, 'text'), null);
    assert.equal(jsonLikeValue('12.50', 'decimal'), '12.50');
  });

  it('says which tables cannot carry their key in old images', () => {
    assert.equal(identityProblem('s.p.t', ['id'], { ident: 'd', identity_columns: ['id'] }), undefined);
    assert.equal(identityProblem('s.p.t', ['id'], { ident: 'f', identity_columns: null }), undefined);
    assert.match(identityProblem('s.p.t', ['id'], { ident: 'd', identity_columns: null }) ?? '', /s\.p\.t: has no primary key, .*sync-ctl schema --apply/);
    assert.match(identityProblem('s.p.t', ['code'], { ident: 'd', identity_columns: ['id'] }) ?? '', /lacks key column\(s\) code/);
    assert.match(identityProblem('s.p.t', ['id'], { ident: 'n', identity_columns: null }) ?? '', /REPLICA IDENTITY NOTHING/);
    assert.match(identityProblem('s.p.t', ['id'], undefined) ?? '', /table not found/);
  });

  it('names one slot and publication per system, valid as slot names', () => {
    assert.deepEqual(logicalNames({ name: 'CRM-eu' }), { slot: 'sync_crm_eu', publication: 'sync_crm_eu' });
    assert.ok(logicalNames({ name: 'x'.repeat(100) }).slot.length <= 63);
  });

  it('warns while a slot nears max_slot_wal_keep_size, and when it is past it', () => {
    const lag = { slot: 's', bytes: 10, seconds: 1, retainedBytes: 600, safeBytes: 400 as number | null, walStatus: 'reserved' as string | null };
    assert.match(slotWarning(lag) ?? '', /over half of max_slot_wal_keep_size/);
    assert.equal(slotWarning({ ...lag, safeBytes: 2_000 }), undefined);
    assert.equal(slotWarning({ ...lag, safeBytes: null }), undefined, 'unlimited');
    assert.match(slotWarning({ ...lag, walStatus: 'unreserved' }) ?? '', /past max_slot_wal_keep_size/);
    assert.match(slotWarning({ ...lag, walStatus: 'lost' }) ?? '', /lost its WAL/);
  });

  it('accepts mode logical for postgres only, and generates the publication with identity DDL', () => {
    const yaml = (dialect: string): string => `version: 1
systems:
  shop:
    dialect: ${dialect}
    connection: { host: db, database: shop, password: { env: PW } }
    tables:
      - { name: orders, key: [id], capture: { mode: logical, batchSize: 500 } }
      - { name: notes, key: [id] }
`;
    const shop = parsePipeline(yaml('postgres'), 'p.yaml').systems.get('shop')!;
    assert.deepEqual(shop.tables[0]!.capture, { mode: 'logical', batchSize: 500, pollIntervalMs: shop.tables[0]!.capture.pollIntervalMs, snapshotChunkSize: 10_000 });
    const ddl = changelogDdl(shop).join(';\n');
    assert.match(ddl, /CREATE PUBLICATION "sync_shop" FOR TABLE "public"\."orders" WITH \(publish = 'insert, update, delete'\)/);
    assert.match(ddl, /ALTER PUBLICATION "sync_shop" SET TABLE "public"\."orders"/);
    assert.match(ddl, /REPLICA IDENTITY FULL/);
    assert.doesNotMatch(ddl, /orders_changes/, 'no changelog for a logical table');
    assert.match(changelogDdl(shop, true).join(';\n'), /DROP PUBLICATION IF EXISTS "sync_shop"/);
    assert.throws(
      () => parsePipeline(yaml('mssql'), 'p.yaml'),
      (err: unknown) => err instanceof ConfigValidationError && err.issues.some((i) => i.path === 'systems.shop.tables[0].capture.mode' && /logical is only available for postgres/.test(i.message)),
    );
  });
});
