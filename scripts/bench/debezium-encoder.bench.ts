/**
 * Encoding cost of the technical-topic formats (node dist/scripts/bench/debezium-encoder.bench.js [N]):
 * N snapshot rows of a 7-column table (int, text, numeric(12,2), timestamptz, date, bool, int)
 * encoded by legacy-import's encoder per format (native; Debezium with and without schemas), in
 * process, no Kafka. Each line: rows per CPU-second of this process and bytes per value.
 * N defaults to 200,000. Prints figures only; nothing is asserted.
 */
import { parsePipeline } from '@sync/config';
import type { TableDescription } from '@sync/legacy-db';
import { technicalRecordEncoder } from '../../apps/legacy-import/src/technical-record.encoder';
import { runMain } from '../lib/script-main';

const DESCRIPTION: TableDescription = {
  database: 'bench',
  uniqueKeys: [{ primary: true, columns: ['id'] }],
  columns: [
    { name: 'id', type: 'int4', kind: 'int', nullable: false, precision: null, scale: null },
    { name: 'name', type: 'text', kind: 'text', nullable: true, precision: null, scale: null },
    { name: 'price', type: 'numeric', kind: 'decimal', nullable: true, precision: 12, scale: 2 },
    { name: 'seen_at', type: 'timestamptz', kind: 'timestamptz', nullable: true, precision: null, scale: 6 },
    { name: 'day', type: 'date', kind: 'date', nullable: true, precision: null, scale: null },
    { name: 'active', type: 'bool', kind: 'bool', nullable: true, precision: null, scale: null },
    { name: 'qty', type: 'int4', kind: 'int', nullable: true, precision: null, scale: null },
  ],
};

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 200_000);
  const rows = Array.from({ length: 2_000 }, (_, i) => ({
    id: i,
    name: `customer ${i} "quoted"`,
    price: `${i}.${String(i % 100).padStart(2, '0')}`,
    seen_at: '2026-11-24T10:00:00.123456+01:00',
    day: '2026-11-24',
    active: i % 2 === 0,
    qty: i * 3,
  }));
  const variants = [
    { label: 'native', yaml: '' },
    { label: 'debezium, schemas.enable=true', yaml: 'technicalTopics: { format: debezium, schemasEnable: true }\n' },
    { label: 'debezium, schemas.enable=false', yaml: 'technicalTopics: { format: debezium, schemasEnable: false }\n' },
  ];
  for (const v of variants) {
    const pipeline = parsePipeline(`version: 1\nsystems:\n  bench:\n    dialect: postgres\n    connection: { host: db, database: bench }\n    tables:\n      - name: items\n        key: [id]\n${v.yaml}`, 'bench.yaml');
    const table = pipeline.systems.get('bench')!.tables[0]!;
    const encoder = technicalRecordEncoder(table, 'postgres', async () => DESCRIPTION, pipeline.technicalTopics);
    await encoder.prepare(rows);
    let bytes = 0;
    let done = 0;
    const cpu = process.cpuUsage();
    while (done < n) {
      for (const r of encoder.snapshotRecords('bench', rows, Date.now())) bytes += String(r.record.value).length;
      done += rows.length;
    }
    const used = process.cpuUsage(cpu);
    const seconds = (used.user + used.system) / 1e6;
    console.log(`${v.label.padEnd(32)} ${Math.round(done / seconds).toLocaleString('en-US').padStart(10)} rows/CPU-s  ${Math.round(bytes / done)} bytes/value`);
  }
}

runMain(main);
