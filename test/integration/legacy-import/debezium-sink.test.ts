import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { repoRoot, testDatabaseUrl, uniqueName } from '../../support/test-env';
import { TopicCollector } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { ImportHarness } from './import-harness';

// The proof of docs/debezium-compatibility.md: Debezium's own JDBC sink connector, on a real Kafka
// Connect worker (scripts/debezium.sh sink-up: Connect 3.9.1, debezium-connector-jdbc 3.0.7.Final
// from Maven Central), reads legacy.* written by legacy-import in Debezium mode and keeps two
// copies of the legacy table equal to it: one from the envelopes as they are, one through
// Debezium's ExtractNewRecordState SMT.

const CONNECT_PORT = Number(process.env['SINK_CONNECT_PORT'] ?? 18183);
const CONNECT = `http://127.0.0.1:${CONNECT_PORT}`;

const COLUMNS = `id int PRIMARY KEY, name text, price numeric(12, 2), seen_at timestamptz, day date, active boolean, qty int`;
const SETUP = `
CREATE TABLE items (${COLUMNS});
INSERT INTO items VALUES
  (1, 'snap "one"', 10.50, '2026-01-02 03:04:05.123456+00', '2026-01-02', true, 1),
  (2, NULL, NULL, NULL, NULL, NULL, NULL);`;

const TABLES = `      - name: items
        key: [id]
        capture: { mode: trigger, batchSize: 200, pollIntervalMs: 200 }
`;

const HOSTILE = `it's "quoted" \\ back\\slash\nnew line\ttab ünïcödé 🚀 '); DROP TABLE items; --`;

/** Rows in a comparable text form: exact decimals, instants in UTC to the microsecond. */
const SNAPSHOT_SQL = (table: string): string => `SELECT id, name, price::text AS price,
  to_char(seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS seen_at, day::text AS day, active, qty
  FROM ${table} ORDER BY id`;

function connect(...args: string[]): void {
  const res = spawnSync('bash', [path.join(repoRoot, 'scripts', 'debezium.sh'), ...args], { encoding: 'utf8', timeout: 600_000, env: { ...process.env, SINK_CONNECT_PORT: String(CONNECT_PORT) } });
  if (res.status !== 0) throw new Error(`scripts/debezium.sh ${args.join(' ')} failed:\n${res.stderr}${res.stdout}`);
}

async function rest(method: string, route: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${CONNECT}${route}`, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await res.text();
  if (!res.ok && res.status !== 404) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** PUT is idempotent: a worker too busy to answer in time (500 "Request timed out") gets it again. */
async function createConnector(name: string, config: Record<string, string>): Promise<void> {
  await waitFor(`connector ${name} created`, async () => {
    await rest('PUT', `/connectors/${name}/config`, config);
    return true;
  }, 120_000, 1_000);
}

describe('Debezium JDBC sink connector on legacy.* in Debezium mode (schemas.enable=true)', () => {
  let h: ImportHarness;
  let sink: Client;
  let events: TopicCollector;
  const sinkDb = uniqueName('dbz_sink').toLowerCase();
  const connectors = [uniqueName('dbz-envelope'), uniqueName('dbz-flat')];
  const startedAt = Date.now();

  before(async () => {
    connect('sink-up');
    h = await ImportHarness.create(SETUP, TABLES);
    appendFileSync(h.pipelineFile, 'technicalTopics: { format: debezium, schemasEnable: true, tombstonesOnDelete: true }\n');
    const admin = new Client({ connectionString: testDatabaseUrl('postgres') });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${sinkDb}"`);
    await admin.end();
    sink = new Client({ connectionString: testDatabaseUrl(sinkDb) });
    await sink.connect();
    await sink.query(`CREATE TABLE items_envelope (${COLUMNS}); CREATE TABLE items_flat (${COLUMNS});`);
    events = await new TopicCollector().start([h.topic('items')]);
    await h.startImporter();

    const server = new URL(testDatabaseUrl(sinkDb));
    const common = {
      'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
      'tasks.max': '1',
      topics: h.topic('items'),
      'connection.url': `jdbc:postgresql://${server.hostname}:${server.port || 5432}/${sinkDb}`,
      'connection.username': decodeURIComponent(server.username || 'postgres'),
      // Required by the connector even where the server trusts the connection (local tests).
      'connection.password': decodeURIComponent(server.password) || 'unused',
      'insert.mode': 'upsert',
      'delete.enabled': 'true',
      'primary.key.mode': 'record_key',
      'schema.evolution': 'none',
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': 'true',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'true',
      'errors.tolerance': 'none',
    };
    await createConnector(connectors[0]!, { ...common, 'collection.name.format': 'items_envelope' });
    await createConnector(connectors[1]!, {
      ...common,
      'collection.name.format': 'items_flat',
      transforms: 'unwrap',
      'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState',
      // A delete becomes a tombstone the sink applies as a DELETE (the SMT drops deletes by default).
      'transforms.unwrap.delete.tombstone.handling.mode': 'tombstone',
    });
  });

  after(async () => {
    for (const name of connectors) await rest('DELETE', `/connectors/${name}`).catch(() => undefined);
    await events?.stop();
    await sink?.end().catch(() => undefined);
    const admin = new Client({ connectionString: testDatabaseUrl('postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${sinkDb}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await h?.close();
    connect('sink-down');
    console.log(`# debezium-sink.test: ${((Date.now() - startedAt) / 1000).toFixed(1)} s including Connect start and stop`);
  });

  /** Fails fast with the task's stack trace when a connector task died. */
  async function assertTasksRunning(names: readonly string[] = connectors): Promise<void> {
    for (const name of names) {
      const status = (await rest('GET', `/connectors/${name}/status`)) as { tasks?: Array<{ state: string; trace?: string }> } | undefined;
      const failed = status?.tasks?.find((t) => t.state === 'FAILED');
      if (failed) throw new Error(`connector ${name} task failed:\n${failed.trace ?? ''}`);
    }
  }

  async function converged(): Promise<void> {
    const expected = await h.db.exec(SNAPSHOT_SQL('items'));
    await waitFor(
      'both sink tables equal to the legacy table',
      async () => {
        await assertTasksRunning();
        const envelope = (await sink.query(SNAPSHOT_SQL('items_envelope'))).rows;
        const flat = (await sink.query(SNAPSHOT_SQL('items_flat'))).rows;
        return JSON.stringify(envelope) === JSON.stringify(expected) && JSON.stringify(flat) === JSON.stringify(expected) ? true : undefined;
      },
      90_000,
      250,
    ).catch(async (err: Error) => {
      // Say what differs rather than only that it timed out.
      assert.deepEqual({ envelope: (await sink.query(SNAPSHOT_SQL('items_envelope'))).rows, flat: (await sink.query(SNAPSHOT_SQL('items_flat'))).rows }, { envelope: expected, flat: expected }, err.message);
      throw err;
    });
  }

  it('copies the snapshot, then inserts, updates, deletes and a primary-key update, values exact', async () => {
    await converged();

    await h.db.exec(`INSERT INTO items VALUES (3, $1, -12345.67, '1999-12-31 23:59:59.999999+05:30', '1970-01-01', false, -5)`, [HOSTILE]);
    await h.db.exec(`INSERT INTO items VALUES (4, 'moves', 0.01, '2026-06-30 12:00:00+02', '1969-12-31', true, 2147483647)`);
    await h.db.exec(`UPDATE items SET name = 'one, renamed', price = 9999999999.99, qty = qty + 1 WHERE id = 1`);
    await h.db.exec(`UPDATE items SET seen_at = NULL, name = name || ' (edited)' WHERE id = 3`);
    await h.db.exec(`DELETE FROM items WHERE id = 2`);
    await h.db.exec(`UPDATE items SET id = 40, name = 'moved' WHERE id = 4`);
    await converged();

    const rows = await h.db.exec<{ id: number }>('SELECT id FROM items ORDER BY id');
    assert.deepEqual(rows.map((r) => r.id), [1, 3, 40]);
  });

  it('publishes a tombstone after each delete, and a primary-key update as delete, tombstone, create with the key headers', async () => {
    const topic = h.topic('items');
    const keyId = (k: unknown): number => ((k as { payload: { id: number } }).payload.id);
    const on = (id: number) => events.on(topic).filter((e) => keyId(e.key) === id);
    await waitFor('the key move on the topic', () => (on(40).length > 0 ? true : undefined), 30_000);
    const ops = (id: number): Array<string | null> => on(id).map((e) => (e.value === null ? null : (e.value as { payload: { op: string } }).payload.op));
    assert.deepEqual(ops(2), ['r', 'd', null]);
    assert.deepEqual(ops(4), ['c', 'd', null]);
    assert.deepEqual(ops(40), ['c']);
    const [moveDelete, moveTombstone] = on(4).slice(1);
    assert.equal(moveDelete!.message.headers['__debezium.newkey'], '{"id":40}');
    assert.equal(moveTombstone!.message.value, null);
    assert.equal(on(40)[0]!.message.headers['__debezium.oldkey'], '{"id":4}');
  });

  it("writes keys and values byte for byte as Kafka Connect's JsonConverter writes them back", () => {
    const lines = events.on(h.topic('items')).flatMap((e) => [e.message.key, e.message.value]).filter((b): b is Buffer => b !== null).map((b) => b.toString('utf8'));
    assert.ok(lines.length >= 20, `records to check (${lines.length})`);
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'dbz-roundtrip-')), 'records.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const classpath = spawnSync('bash', [path.join(repoRoot, 'scripts', 'debezium.sh'), 'sink-classpath'], { encoding: 'utf8' }).stdout.trim();
    const res = spawnSync('java', ['-cp', classpath, path.join(repoRoot, 'test', 'fixtures', 'connect', 'JsonConverterRoundTrip.java'), file], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(res.status, 0, res.stderr);
    const verdicts = res.stdout.trim().split('\n');
    assert.equal(verdicts.length, lines.length);
    verdicts.forEach((v, i) => assert.equal(v, 'SAME', `record ${i}: ${lines[i]}`));
  });
});
