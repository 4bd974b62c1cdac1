import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import { createCaptureSource, createLegacyDb, type CaptureSource, type LegacyDb } from '@sync/legacy-db';
import { LegacyDatabase } from '../../support/legacy-database';

// The snapshot reads columns one by one as text (rowMode array, no type parsers); every other read
// (currentRow: keys-only changelogs, verify's repairs) parses the row image to_jsonb(t.*). Both must
// give the same row, value for value and in column order, for every type a legacy table may hold.

const SETUP = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN price AS numeric(10,2);
CREATE TYPE pair AS (a int, b text);
CREATE TABLE kinds (
  id int PRIMARY KEY,
  i2 int2, i8 int8, n numeric, n2 numeric(12,2), f4 float4, f8 float8, b bool,
  t text, vc varchar(20), ch char(5), u uuid, by bytea,
  tz timestamptz, ts timestamp, d date, tm time, iv interval,
  j json, jb jsonb, ia int[], ta text[], m money, ip inet, e mood, p price, c pair, x xml
);
INSERT INTO kinds VALUES
  (1, 32767, 9007199254740993, 123456789012345678901234567890.123456789, 1.50, 1.1, 1e300, true,
   'quote " backslash \\ ü ✓ 𝄞', 'vc', 'ab', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff10',
   '2024-02-29 23:59:59.123456+05:30', '2024-01-01 00:00:00.5', '2024-01-01', '12:34:56', '1 day 02:00:00',
   '{"b": 1, "a": [1.50, 2e3, 12345678901234567890], "a": 2}', '{"z": 0.10, "y": null}', '{1,2,NULL}', '{"x","y z"}', 12.34, '10.0.0.1/32', 'happy', 9.90, ROW(1, 'one'), '<a>x</a>'),
  (2, -1, -9007199254740993, 'NaN', 0, 'NaN', '-0', false,
   '', '', '', NULL, '\\x', 'infinity', '-infinity', 'epoch', NULL, NULL,
   '[]', '"text"', '{}', '{}', -1, '::1', 'sad', NULL, ROW(NULL, NULL), NULL),
  (3, NULL, NULL, NULL, NULL, 'Infinity', '-Infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   'null', 'null', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 0, 0, 0.000001, 99.99, 3.4e38, 5e-324, true, E'tab\\tnewline\\n', 'x', 'x', NULL, NULL,
   '1999-12-31 23:00:00-08', '0001-01-01 00:00:00', '0044-03-15 BC', '00:00:00', '-1 year', '1', '1.0', '{{1,2},{3,4}}', '{NULL}', 0, '2001:db8::/32', 'ok', 0.01, ROW(2, 'two "quoted"'), '<b/>');
`;

describe('PostgreSQL: snapshot chunks read column by column equal the row images', () => {
  let legacy: LegacyDatabase;
  let db: LegacyDb;
  let source: CaptureSource;
  before(async () => {
    legacy = await LegacyDatabase.create('it_snapread');
    await legacy.exec(SETUP);
    const pipeline = parsePipeline(
      `version: 1\nsystems:\n  crm:\n    dialect: postgres\n    connection: { url: { env: X } }\n    tables:\n      - name: kinds\n        key: [id]\n`,
      'it.yaml',
    );
    const system = pipeline.systems.get('crm')!;
    db = createLegacyDb({ system: 'crm', dialect: 'postgres', url: { reveal: () => legacy.url }, poolSize: 2 }, () => undefined);
    source = createCaptureSource(db, system, system.tables[0]!);
  });
  after(async () => {
    await db?.close();
    await legacy?.drop();
  });

  async function imagesOf(rows: ReadonlyArray<Record<string, unknown>>): Promise<Array<Record<string, unknown> | null>> {
    return Promise.all(rows.map((r) => source.currentRow({ id: r['id'] })));
  }

  it('gives the same values, in the same column order, as to_jsonb(t.*) normalised, for every type', async () => {
    const rows = await source.snapshotChunk(null, 100);
    assert.deepEqual(rows.map((r) => r['id']), [1, 2, 3, 4]);
    const images = await imagesOf(rows);
    rows.forEach((row, i) => {
      assert.deepEqual(row, images[i], `row ${row['id']}`);
      // Same bytes in the event: same keys in the same order, same JSON text of every value.
      assert.equal(JSON.stringify(row), JSON.stringify(images[i]), `row ${row['id']} as JSON`);
    });
    // A few values spelled out, so that "equal" cannot mean "equally wrong".
    assert.equal(rows[0]!['i8'], '9007199254740993');
    assert.equal(rows[0]!['n'], '123456789012345678901234567890.123456789');
    assert.equal(rows[0]!['n2'], '1.50');
    assert.equal(rows[0]!['b'], true);
    assert.equal(rows[0]!['by'], Buffer.from([0, 255, 16]).toString('base64'));
    assert.equal(rows[1]!['tz'], 'infinity');
    assert.equal(rows[2]!['jb'], null);
  });

  it('pages by key after a given key, with any limit', async () => {
    assert.deepEqual((await source.snapshotChunk({ id: 1 }, 2)).map((r) => r['id']), [2, 3]);
    assert.deepEqual((await source.snapshotChunk({ id: 3 }, 2)).map((r) => r['id']), [4]);
    assert.deepEqual(await source.snapshotChunk({ id: 4 }, 2), []);
  });

  it('notices a column added or dropped since the columns were read, in the very next chunk', async () => {
    await source.snapshotChunk(null, 1);
    await legacy.exec(`ALTER TABLE kinds ADD COLUMN added text DEFAULT 'new'`);
    const [withAdded] = await source.snapshotChunk(null, 1);
    assert.equal(withAdded!['added'], 'new');
    await legacy.exec('ALTER TABLE kinds DROP COLUMN t');
    const [withoutT] = await source.snapshotChunk(null, 1);
    assert.equal('t' in withoutT!, false);
    assert.deepEqual(withoutT, await source.currentRow({ id: 1 }));
  });
});
