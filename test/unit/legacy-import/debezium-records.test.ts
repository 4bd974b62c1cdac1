import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigValidationError, parsePipeline } from '@sync/config';
import { decodeChangeMessage } from '@sync/contracts';
import type { CapturedChange, TableDescription } from '@sync/legacy-db';
import { DebeziumRecordEncoder, NativeRecordEncoder, technicalRecordEncoder } from '../../../apps/legacy-import/src/technical-record.encoder';

const pipelineText = (extra = ''): string => `
version: 1
systems:
  shop:
    dialect: postgres
    connection: { host: db, database: shop }
    tables:
      - name: item
        schema: stock
        key: [id]
${extra}`;

const PIPELINE = parsePipeline(pipelineText('technicalTopics: { format: debezium }\n'), 'unit.yaml');
const TABLE = PIPELINE.systems.get('shop')!.tables[0]!;

const DESCRIPTION: TableDescription = {
  database: 'shop',
  uniqueKeys: [{ primary: true, columns: ['id'] }],
  columns: [
    { name: 'id', type: 'int4', kind: 'int', nullable: false, precision: null, scale: null },
    { name: 'price', type: 'numeric', kind: 'decimal', nullable: true, precision: 10, scale: 2 },
  ],
};

function change(op: CapturedChange['op'], before: Record<string, unknown> | null, after: Record<string, unknown> | null): CapturedChange {
  return { op, before, after, changeId: '42', committedAt: '2026-01-01T00:00:00.000Z', txId: '7', origin: null };
}

async function encoder(options = PIPELINE.technicalTopics, describe = async () => DESCRIPTION): Promise<DebeziumRecordEncoder> {
  const e = new DebeziumRecordEncoder(TABLE, 'postgres', describe, options);
  await e.prepare([]);
  return e;
}

const payload = (value: unknown): { op: string; before: unknown; after: unknown } => (JSON.parse(String(value)) as { payload: { op: string; before: unknown; after: unknown } }).payload;
const keyOf = (key: unknown): unknown => (JSON.parse(String(key)) as { payload: unknown }).payload;

describe('pipeline: technicalTopics', () => {
  it('defaults to the native format, schemas and tombstones on for Debezium mode', () => {
    assert.deepEqual(parsePipeline(pipelineText(), 'x.yaml').technicalTopics, { format: 'native', schemasEnable: true, tombstonesOnDelete: true });
    assert.ok(technicalRecordEncoder(TABLE, 'postgres', async () => DESCRIPTION, parsePipeline(pipelineText(), 'x.yaml').technicalTopics) instanceof NativeRecordEncoder);
    assert.ok(technicalRecordEncoder(TABLE, 'postgres', async () => DESCRIPTION, PIPELINE.technicalTopics) instanceof DebeziumRecordEncoder);
  });

  it('refuses an unknown format and non-boolean switches, naming the path', () => {
    assert.throws(
      () => parsePipeline(pipelineText('technicalTopics: { format: avro, schemasEnable: yes please, tombstonesOnDelete: 1 }\n'), 'x.yaml'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigValidationError);
        const paths = err.issues.map((i) => i.path).join(' ');
        for (const p of ['technicalTopics.format', 'technicalTopics.schemasEnable', 'technicalTopics.tombstonesOnDelete']) assert.match(paths, new RegExp(p.replace('.', '\\.')));
        return true;
      },
    );
  });
});

describe('legacy-import: Debezium records', () => {
  it('a delete is followed by a tombstone under the same key; tombstonesOnDelete=false leaves it out', async () => {
    const records = (await encoder()).changeRecords(change('d', { id: 5, price: '1.00' }, null), 1);
    assert.deepEqual(records.map((r) => [keyOf(r.record.key), r.record.value === null ? null : payload(r.record.value).op]), [[{ id: 5 }, 'd'], [{ id: 5 }, null]]);
    assert.equal(records[0]!.record.key, records[1]!.record.key);
    assert.notEqual(records[0]!.record.headers!['event-id'], records[1]!.record.headers!['event-id']);
    const off = (await encoder({ ...PIPELINE.technicalTopics, tombstonesOnDelete: false })).changeRecords(change('d', { id: 5, price: '1.00' }, null), 1);
    assert.deepEqual(off.map((r) => payload(r.record.value).op), ['d']);
  });

  it('a primary-key update is delete + tombstone + create with the __debezium.newkey / oldkey headers', async () => {
    const records = (await encoder()).changeRecords(change('u', { id: 5, price: '1.00' }, { id: 9, price: '1.00' }), 1);
    assert.deepEqual(records.map((r) => [r.key, r.record.value === null ? null : payload(r.record.value).op]), [[{ id: 5 }, 'd'], [{ id: 5 }, null], [{ id: 9 }, 'c']]);
    assert.equal(records[0]!.record.headers!['__debezium.newkey'], '{"id":9}');
    assert.equal(records[1]!.record.headers!['__debezium.newkey'], '{"id":9}');
    assert.equal(records[2]!.record.headers!['__debezium.oldkey'], '{"id":5}');
    assert.deepEqual([payload(records[0]!.record.value).after, payload(records[2]!.record.value).before], [null, null]);
  });

  it('what the native source block held travels in headers, and the record decodes back to the native event', async () => {
    const [record] = (await encoder()).changeRecords(change('c', null, { id: 5, price: '10.50' }), 1);
    const headers = record!.record.headers!;
    assert.deepEqual([headers['sync-position'], headers['sync-committed-at'], headers['sync-tx-id'], headers['origin']], ['42', '2026-01-01T00:00:00.000Z', '7', 'legacy:shop']);
    assert.equal(record!.record.topic, 'legacy.shop.stock.item');
    const event = decodeChangeMessage(Buffer.from(String(record!.record.value)), headers)!;
    assert.deepEqual(event, { before: null, after: { id: 5, price: '10.50' }, op: 'c', ts_ms: 1, source: { system: 'shop', schema: 'stock', table: 'item', position: '42', committedAt: '2026-01-01T00:00:00.000Z', txId: '7' } });
  });

  it('snapshot rows are op r with snapshot=true, positions as in native mode', async () => {
    const [row] = (await encoder()).snapshotRecords('s1', [{ id: 3, price: null }], 1);
    assert.equal(row!.position, 'snapshot:s1:{"id":3}');
    const value = JSON.parse(String(row!.record.value)) as { payload: { op: string; source: { snapshot: string } } };
    assert.deepEqual([value.payload.op, value.payload.source.snapshot], ['r', 'true']);
  });

  it('reads the catalog once, and again when a row shows a column it did not list', async () => {
    let reads = 0;
    const e = await encoder(PIPELINE.technicalTopics, async () => {
      reads++;
      return reads === 1 ? DESCRIPTION : { ...DESCRIPTION, columns: [...DESCRIPTION.columns, { name: 'note', type: 'text', kind: 'text', nullable: true, precision: null, scale: null }] };
    });
    await e.prepare([{ id: 1, price: '1.00' }]);
    assert.equal(reads, 1);
    await e.prepare([{ id: 1, price: '1.00', note: 'new' }]);
    assert.equal(reads, 2);
    const [record] = e.changeRecords(change('c', null, { id: 1, price: '1.00', note: 'new' }), 1);
    assert.deepEqual(payload(record!.record.value).after, { id: 1, price: 'ZA==', note: 'new' });
  });
});
