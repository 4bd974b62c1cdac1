import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChangeHeaders, decodeChangeMessage, DebeziumEnvelopeEncoder, type CatalogColumn, type DebeziumTable } from '@sync/contracts';
import { fromDebeziumValue, fromTwosComplement, toDebeziumValue, twosComplement } from '../../../libs/contracts/src/debezium/debezium-values';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PG_COLUMNS: CatalogColumn[] = [
  { name: 'id', type: 'int4', nullable: false },
  { name: 'small', type: 'int2', nullable: true },
  { name: 'big', type: 'int8', nullable: true },
  { name: 'name', type: 'text', nullable: true },
  { name: 'price', type: 'numeric', nullable: true, precision: 12, scale: 2 },
  { name: 'ratio', type: 'numeric', nullable: true, precision: null, scale: null },
  { name: 'seen_at', type: 'timestamptz', nullable: true, scale: 6 },
  { name: 'local_at', type: 'timestamp', nullable: true, scale: 6 },
  { name: 'local_ms', type: 'timestamp', nullable: true, scale: 3 },
  { name: 'day', type: 'date', nullable: true },
  { name: 'at_time', type: 'time', nullable: true, scale: 6 },
  { name: 'active', type: 'bool', nullable: true },
  { name: 'ref', type: 'uuid', nullable: true },
  { name: 'doc', type: 'jsonb', nullable: true },
  { name: 'blob', type: 'bytea', nullable: true },
  { name: 'f', type: 'float8', nullable: true },
];

const PG_TABLE: DebeziumTable = { dialect: 'postgres', system: 'crm', database: 'crmdb', schema: 'public', table: 'items', key: ['id'], columns: PG_COLUMNS };

const ROW = {
  id: 7,
  small: -3,
  big: '9007199254740993',
  name: `it's "quoted"\nünï 🚀`,
  price: '-12345.67',
  ratio: '3.14159',
  seen_at: '1999-12-31T23:59:59.999999+05:30',
  local_at: '2026-01-02T03:04:05.123456',
  local_ms: '2026-01-02T03:04:05.123',
  day: '1969-12-31',
  at_time: '10:11:12.5',
  active: true,
  ref: '6f1c1f0e-7d43-4a57-9b55-33d1c2a5a2a1',
  doc: { a: [1, 'x'], b: null },
  blob: 'AP8Q',
  f: 1.5,
};

const CHANGE = { op: 'u' as const, before: { ...ROW, name: 'old' }, after: ROW, position: '41', committedAt: '2026-11-24T10:00:00.123456+01:00', txId: '991' };

const parse = (text: string): Json => JSON.parse(text) as Json;
const fieldsOf = (schema: Json): string[] => (schema['fields'] as Json[]).map((f) => f['field'] as string);
const field = (schema: Json, name: string): Json => (schema['fields'] as Json[]).find((f) => f['field'] === name)!;

describe('Debezium envelope: key and value as the PostgreSQL connector and the JsonConverter write them', () => {
  const encoder = new DebeziumEnvelopeEncoder(PG_TABLE, { schemasEnable: true, tombstonesOnDelete: true });

  it('the key is a {schema, payload} struct of the key columns', () => {
    assert.deepEqual(parse(encoder.key({ id: 7 })), {
      schema: { type: 'struct', fields: [{ type: 'int32', optional: false, field: 'id' }], optional: false, name: 'legacy.crm.public.items.Key' },
      payload: { id: 7 },
    });
  });

  it('the envelope schema has Debezium field order, names and versions', () => {
    const { schema } = parse(encoder.value(CHANGE, 1_000));
    assert.deepEqual([schema['name'], schema['version'], schema['optional']], ['legacy.crm.public.items.Envelope', 2, false]);
    assert.deepEqual(fieldsOf(schema), ['before', 'after', 'source', 'transaction', 'op', 'ts_ms', 'ts_us', 'ts_ns']);
    const after = field(schema, 'after');
    assert.deepEqual([after['name'], after['optional']], ['legacy.crm.public.items.Value', true]);
    assert.deepEqual(fieldsOf(after), PG_COLUMNS.map((c) => c.name));
    assert.deepEqual(field(schema, 'transaction')['name'], 'event.block');
    const source = field(schema, 'source');
    assert.equal(source['name'], 'io.debezium.connector.postgresql.Source');
    assert.deepEqual(fieldsOf(source), ['version', 'connector', 'name', 'ts_ms', 'snapshot', 'db', 'sequence', 'ts_us', 'ts_ns', 'schema', 'table', 'txId', 'lsn', 'xmin']);
    assert.deepEqual(field(source, 'snapshot'), {
      type: 'string', optional: true, name: 'io.debezium.data.Enum', version: 1,
      parameters: { allowed: 'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental' }, default: 'false', field: 'snapshot',
    });
  });

  it('columns carry Debezium default semantic types (decimal precise, time adaptive)', () => {
    const after = field(parse(encoder.value(CHANGE, 1_000)).schema, 'after');
    const semantic = (name: string): unknown[] => {
      const f = field(after, name);
      return [f['type'], f['name'], f['parameters']];
    };
    assert.deepEqual(field(after, 'id'), { type: 'int32', optional: false, field: 'id' });
    assert.deepEqual(semantic('small'), ['int16', undefined, undefined]);
    assert.deepEqual(semantic('big'), ['int64', undefined, undefined]);
    assert.deepEqual(semantic('price'), ['bytes', 'org.apache.kafka.connect.data.Decimal', { scale: '2', 'connect.decimal.precision': '12' }]);
    assert.deepEqual(semantic('ratio'), ['struct', 'io.debezium.data.VariableScaleDecimal', undefined]);
    assert.deepEqual(semantic('seen_at'), ['string', 'io.debezium.time.ZonedTimestamp', undefined]);
    assert.deepEqual(semantic('local_at'), ['int64', 'io.debezium.time.MicroTimestamp', undefined]);
    assert.deepEqual(semantic('local_ms'), ['int64', 'io.debezium.time.Timestamp', undefined]);
    assert.deepEqual(semantic('day'), ['int32', 'io.debezium.time.Date', undefined]);
    assert.deepEqual(semantic('at_time'), ['int64', 'io.debezium.time.MicroTime', undefined]);
    assert.deepEqual(semantic('active'), ['boolean', undefined, undefined]);
    assert.deepEqual(semantic('ref'), ['string', 'io.debezium.data.Uuid', undefined]);
    assert.deepEqual(semantic('doc'), ['string', 'io.debezium.data.Json', undefined]);
    assert.deepEqual(semantic('blob'), ['bytes', undefined, undefined]);
    assert.deepEqual(semantic('f'), ['double', undefined, undefined]);
  });

  it('values are converted: Decimal bytes, epoch days and micros, UTC ZonedTimestamp, int64 beyond 2^53 as bare digits', () => {
    const text = encoder.value(CHANGE, 1_000);
    assert.match(text, /"big":9007199254740993[,}]/, 'an int64 past 2^53 keeps its digits');
    assert.ok(text.includes('ünï \\uD83D\\uDE80'), 'an emoji as the escaped surrogate pair Jackson (the JsonConverter) writes');
    const { payload } = parse(text);
    const after = payload['after'] as Json;
    assert.equal(after['price'], twosComplement(-1234567n).toString('base64'));
    assert.deepEqual(after['ratio'], { scale: 5, value: twosComplement(314159n).toString('base64') });
    assert.equal(after['seen_at'], '1999-12-31T18:29:59.999999Z');
    assert.equal(after['local_at'], Date.UTC(2026, 0, 2, 3, 4, 5) * 1000 + 123456);
    assert.equal(after['local_ms'], Date.UTC(2026, 0, 2, 3, 4, 5, 123));
    assert.equal(after['day'], -1);
    assert.equal(after['at_time'], (10 * 3600 + 11 * 60 + 12) * 1_000_000 + 500_000);
    assert.equal(after['name'], ROW.name);
    assert.equal(after['doc'], '{"a":[1,"x"],"b":null}');
    assert.equal(after['blob'], 'AP8Q');
    assert.equal((payload['before'] as Json)['name'], 'old');
    assert.deepEqual([payload['op'], payload['ts_ms'], payload['transaction']], ['u', 1_000, null]);
  });

  it('the source block: connector, logical name, commit time, database, txId, lsn of a logical position', () => {
    const source = parse(encoder.value(CHANGE, 1_000)).payload['source'] as Json;
    assert.deepEqual(source, {
      version: '3.0.7.Final', connector: 'postgresql', name: 'legacy.crm', ts_ms: Date.parse('2026-11-24T09:00:00.123Z'), snapshot: 'false',
      db: 'crmdb', sequence: null, ts_us: Date.parse('2026-11-24T09:00:00.123Z') * 1000 + 456, ts_ns: source['ts_ns'],
      schema: 'public', table: 'items', txId: 991, lsn: null, xmin: null,
    });
    const logical = parse(encoder.value({ ...CHANGE, position: '1/A0:3' }, 1)).payload['source'] as Json;
    assert.equal(logical['lsn'], 0x1_0000_00a0);
    const snapshot = parse(encoder.value({ ...CHANGE, op: 'r', before: null }, 1)).payload;
    assert.deepEqual([snapshot['op'], (snapshot['source'] as Json)['snapshot']], ['r', 'true']);
  });

  it('schemas.enable=false: the payload alone, and a sync-columns header to restore native values', () => {
    const bare = new DebeziumEnvelopeEncoder(PG_TABLE, { schemasEnable: false, tombstonesOnDelete: true });
    assert.deepEqual(parse(bare.key({ id: 7 })), { id: 7 });
    const value = parse(bare.value(CHANGE, 1_000));
    assert.deepEqual(Object.keys(value), ['before', 'after', 'source', 'transaction', 'op', 'ts_ms', 'ts_us', 'ts_ns']);
    assert.deepEqual(JSON.parse(bare.columnsHeader!), {
      price: 'decimal:2', ratio: 'variable-decimal', local_at: 'micro-timestamp', local_ms: 'timestamp', day: 'date', at_time: 'micro-time', doc: 'json',
    });
    assert.equal(encoder.columnsHeader, undefined);
  });

  it('a value Debezium cannot carry is a data error naming the column', () => {
    assert.throws(() => encoder.value({ ...CHANGE, after: { ...ROW, price: '1.234' } }, 1), /price: 1.234 has more than the column's 2 decimal places/);
    assert.throws(() => encoder.value({ ...CHANGE, after: { ...ROW, day: 'infinity' } }, 1), /day: "infinity" is not a date/);
  });

  it('PostgreSQL money (text formatted by lc_monetary) travels as a string, not a refused Decimal', () => {
    const table: DebeziumTable = { ...PG_TABLE, columns: [...PG_COLUMNS, { name: 'fee', type: 'money', nullable: true }] };
    const withMoney = new DebeziumEnvelopeEncoder(table, { schemasEnable: true, tombstonesOnDelete: true });
    const { schema, payload } = parse(withMoney.value({ ...CHANGE, after: { ...ROW, fee: '$1,234.56' } }, 1));
    assert.deepEqual(field(field(schema, 'after'), 'fee'), { type: 'string', optional: true, field: 'fee' });
    assert.equal((payload['after'] as Json)['fee'], '$1,234.56');
  });

  it('a catalog without the key column is refused at construction', () => {
    assert.throws(() => new DebeziumEnvelopeEncoder({ ...PG_TABLE, key: ['nope'] }, { schemasEnable: true, tombstonesOnDelete: true }), /key column nope is not in the table's catalog/);
  });
});

describe('Debezium envelope: SQL Server connector', () => {
  const table: DebeziumTable = {
    dialect: 'mssql', system: 'erp', database: 'ERP', schema: 'dbo', table: 'Orders', key: ['OrderNo'],
    columns: [
      { name: 'OrderNo', type: 'int', nullable: false },
      { name: 'Flag', type: 'bit', nullable: true },
      { name: 'Tiny', type: 'tinyint', nullable: true },
      { name: 'Amount', type: 'money', nullable: true },
      { name: 'At', type: 'datetime2', nullable: true, scale: 7 },
      { name: 'Old', type: 'datetime', nullable: true },
      { name: 'Zoned', type: 'datetimeoffset', nullable: true, scale: 7 },
    ],
  };
  const encoder = new DebeziumEnvelopeEncoder(table, { schemasEnable: true, tombstonesOnDelete: true });
  const row = { OrderNo: 1, Flag: true, Tiny: 200, Amount: '12.5', At: '2026-01-02T03:04:05.1234567', Old: '2026-01-02T03:04:05.123', Zoned: '2026-01-02T03:04:05.1234567+02:00' };
  const cdc = '0000002500000d980003:0000002500000d980002:2';

  it('the source block has change_lsn, commit_lsn and event_serial_no (CDC positions), types per the SQL Server connector', () => {
    const { schema, payload } = parse(encoder.value({ op: 'c', before: null, after: row, position: cdc, committedAt: '2026-01-02T03:04:05.000Z', txId: null }, 5));
    const source = field(schema, 'source');
    assert.equal(source['name'], 'io.debezium.connector.sqlserver.Source');
    assert.deepEqual(fieldsOf(source).slice(-3), ['change_lsn', 'commit_lsn', 'event_serial_no']);
    const s = payload['source'] as Json;
    assert.deepEqual([s['connector'], s['db'], s['change_lsn'], s['commit_lsn'], s['event_serial_no']], ['sqlserver', 'ERP', '00000025:00000d98:0002', '00000025:00000d98:0003', 1]);
    const after = field(schema, 'after');
    const types = (name: string): unknown[] => [field(after, name)['type'], field(after, name)['name']];
    assert.deepEqual(types('Flag'), ['boolean', undefined]);
    assert.deepEqual(types('Tiny'), ['int16', undefined]);
    assert.deepEqual([...types('Amount'), field(after, 'Amount')['parameters']], ['bytes', 'org.apache.kafka.connect.data.Decimal', { scale: '4', 'connect.decimal.precision': '19' }]);
    assert.deepEqual(types('At'), ['int64', 'io.debezium.time.NanoTimestamp']);
    assert.deepEqual(types('Old'), ['int64', 'io.debezium.time.Timestamp']);
    const values = payload['after'] as Json;
    assert.equal(values['Amount'], twosComplement(125000n).toString('base64'));
    assert.match(encoder.value({ op: 'c', before: null, after: row, position: cdc, committedAt: '2026-01-02T03:04:05.000Z', txId: null }, 5), /"At":1767323045123456700[,}]/);
    assert.equal(values['Zoned'], '2026-01-02T01:04:05.1234567Z');
    const trigger = parse(encoder.value({ op: 'c', before: null, after: row, position: '17', committedAt: '2026-01-02T03:04:05.000Z', txId: null }, 5)).payload['source'] as Json;
    assert.deepEqual([trigger['change_lsn'], trigger['commit_lsn'], trigger['event_serial_no']], [null, null, null]);
  });
});

describe('decoding legacy.* in either format', () => {
  const headers = { [ChangeHeaders.position]: '41', [ChangeHeaders.committedAt]: CHANGE.committedAt, [ChangeHeaders.txId]: '991' };

  for (const schemasEnable of [true, false]) {
    it(`a Debezium envelope (schemas.enable=${schemasEnable}) decodes to the native event with native values`, () => {
      const encoder = new DebeziumEnvelopeEncoder(PG_TABLE, { schemasEnable, tombstonesOnDelete: true });
      const all = encoder.columnsHeader === undefined ? headers : { ...headers, [ChangeHeaders.columns]: encoder.columnsHeader };
      const event = decodeChangeMessage(Buffer.from(encoder.value(CHANGE, 1_000)), all)!;
      assert.deepEqual(event.source, { system: 'crm', schema: 'public', table: 'items', position: '41', committedAt: CHANGE.committedAt, txId: '991' });
      assert.deepEqual([event.op, event.ts_ms], ['u', 1_000]);
      const after = event.after!;
      assert.deepEqual(
        after,
        { ...ROW, seen_at: '1999-12-31T18:29:59.999999Z', at_time: '10:11:12.5' },
        'big (2^53 + 1) keeps its exact digits, as the native envelope carries them',
      );
      assert.equal(event.before!['name'], 'old');
    });
  }

  it('an int64 within 2^53 stays a number; a key beyond it keeps its exact digits', () => {
    const encoder = new DebeziumEnvelopeEncoder({ ...PG_TABLE, key: ['big'] }, { schemasEnable: true, tombstonesOnDelete: true });
    const safe = decodeChangeMessage(Buffer.from(encoder.value({ ...CHANGE, before: null, op: 'c', after: { ...ROW, big: 9007199254740991, f: 0.1 } }, 1)), headers)!;
    assert.deepEqual([safe.after!['big'], safe.after!['f'], safe.after!['id']], [9007199254740991, 0.1, 7]);
    const unsafe = decodeChangeMessage(Buffer.from(encoder.value({ ...CHANGE, before: null, op: 'c', after: { ...ROW, big: '-9223372036854775808' } }, 1)), headers)!;
    assert.equal(unsafe.after!['big'], '-9223372036854775808');
  });

  it('a tombstone is null (skipped, not a fault); a native event decodes as before', () => {
    assert.equal(decodeChangeMessage(null, {}), null);
    assert.equal(decodeChangeMessage(Buffer.alloc(0), {}), null);
    const native = { before: null, after: { id: 1 }, op: 'c', ts_ms: 1, source: { system: 'crm', schema: 'public', table: 'items', position: '1', committedAt: 'x', txId: null } };
    assert.deepEqual(decodeChangeMessage(Buffer.from(JSON.stringify(native)), {}), native);
  });

  it('an unknown sync-columns tag is a contract error naming the header', () => {
    const bare = new DebeziumEnvelopeEncoder(PG_TABLE, { schemasEnable: false, tombstonesOnDelete: true });
    assert.throws(() => decodeChangeMessage(Buffer.from(bare.value(CHANGE, 1)), { [ChangeHeaders.columns]: '{"price":"money!"}' }), /sync-columns header: unknown type "money!" for column price/);
  });
});

describe('Connect Decimal bytes', () => {
  it('are the minimal two’s complement of java.math.BigInteger.toByteArray', () => {
    const cases: Array<[bigint, string]> = [[0n, '00'], [127n, '7f'], [128n, '0080'], [-1n, 'ff'], [-128n, '80'], [-129n, 'ff7f'], [1050n, '041a'], [-1234567n, 'ed2979']];
    for (const [n, hex] of cases) {
      assert.equal(twosComplement(n).toString('hex'), hex, String(n));
      assert.equal(fromTwosComplement(Buffer.from(hex, 'hex')), n);
    }
  });
});

describe('Debezium dates and times without Date objects', () => {
  const date = { kind: 'date' } as const;
  const micro = { kind: 'micro-timestamp' } as const;

  it('agree with Date.UTC from year 1 to 9999, both ways', () => {
    for (let days = -719_162; days <= 2_932_896; days += 997) {
      const iso = new Date(days * 86_400_000).toISOString().slice(0, 10);
      assert.equal(toDebeziumValue(iso, date, 'd'), days, iso);
      assert.equal(fromDebeziumValue(days, date, 'd'), iso);
    }
    for (const iso of ['2000-02-29', '1900-03-01', '2400-02-29', '1970-01-01', '1969-12-31']) {
      assert.equal(toDebeziumValue(iso, date, 'd'), Date.parse(`${iso}T00:00:00Z`) / 86_400_000, iso);
    }
  });

  it('micro-timestamps round-trip with their microseconds, before and after 1970', () => {
    for (const text of ['1969-12-31T23:59:59.999999', '2026-06-30T12:00:00', '1900-01-01T00:00:00.000001', '9999-12-31T23:59:59.5']) {
      const micros = toDebeziumValue(text, micro, 't');
      assert.equal(fromDebeziumValue(micros, micro, 't'), text);
    }
  });
});
