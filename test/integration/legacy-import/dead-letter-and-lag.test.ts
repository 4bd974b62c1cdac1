import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { TopicCollector, type Collected } from '../../support/topic-collector';
import { waitFor } from '../../support/wait-for';
import { ImportHarness } from './import-harness';

const SETUP = `CREATE TABLE docs (id int PRIMARY KEY, body text);`;

const TABLES = `      - name: docs
        key: [id]
        capture: { mode: trigger, batchSize: 50, pollIntervalMs: 200 }
`;

const DLQ = 'dlq.legacy-import';

interface DeadLetterValue {
  entity: string;
  key: Record<string, unknown> | null;
  position: string;
  rejection: string;
  reason: string;
  encodedBytes?: number;
  limitBytes?: number;
}

describe('legacy-import dead letters and capture lag (PostgreSQL trigger changelog, real broker)', () => {
  let h: ImportHarness;
  let events: TopicCollector;
  let entity: string;

  const ids = (): number[] => events.on(h.topic('docs')).map((e) => (e.key as { id: number }).id);
  const deadLetters = (): Collected[] => events.on(DLQ).filter((d) => d.message.headers['dlq-entity'] === entity);
  const changelogId = async (where: string): Promise<string> =>
    (await h.db.exec<{ id: string }>(`SELECT id::text AS id FROM sync.public_docs_changes WHERE ${where}`))[0]!.id;

  before(async () => {
    h = await ImportHarness.create(SETUP, TABLES);
    entity = `${h.system}.public.docs`;
    events = await new TopicCollector().start([h.topic('docs'), DLQ]);
    await h.startImporter();
  });

  after(async () => {
    await events.stop();
    await h.close();
  });

  it('sends a 2 MB row to dlq.legacy-import as a small reference, and the next row of the entity arrives', async () => {
    await h.db.exec(`INSERT INTO docs VALUES (1, repeat('x', 2 * 1024 * 1024))`);
    await h.db.exec(`INSERT INTO docs VALUES (2, 'small')`);
    const position = await changelogId(`(after->>'id')::int = 1`);

    await waitFor('row 2 on its legacy topic', () => ids().includes(2), 60_000);
    const letter = await waitFor('the oversize dead letter', () => deadLetters().find((d) => d.message.headers['dlq-position'] === position), 30_000);
    assert.ok(!ids().includes(1), 'the oversize row is not on the legacy topic');
    assert.ok((letter.message.value?.length ?? 0) < 4096, `the dead letter is a small reference (${letter.message.value?.length} bytes)`);
    const v = letter.value as DeadLetterValue;
    assert.equal(v.entity, entity);
    assert.deepEqual(v.key, { id: 1 });
    assert.equal(v.position, position);
    assert.equal(v.rejection, 'oversize');
    assert.ok((v.encodedBytes ?? 0) > 2 * 1024 * 1024, `encoded size ${v.encodedBytes}`);
    assert.equal(v.limitBytes, 1_048_588, 'the broker default max.message.bytes');
    const headers = letter.message.headers;
    assert.equal(headers['dlq-error-kind'], 'data');
    assert.equal(headers['dlq-app'], 'legacy-import');
    assert.equal(headers['dlq-source-topic'], h.topic('docs'));
    assert.equal(headers['dlq-encoded-bytes'], String(v.encodedBytes));
    assert.equal(headers['dlq-limit-bytes'], '1048588');
    assert.match(headers['dlq-reason'] ?? '', /over the 1048588-byte limit/);
    assert.equal(headers['event-id'], `${entity}:${position}`);
  });

  it('sends a poison changelog row (no key in its image) to dlq.legacy-import with its changelog id, and the next row arrives', async () => {
    // A row the legacy side (or a broken trigger) wrote by hand: an update whose image lacks the key.
    await h.db.exec(`INSERT INTO sync.public_docs_changes (op, after) VALUES ('u', '{"body": "no key"}')`);
    await h.db.exec(`INSERT INTO docs VALUES (3, 'after the poison')`);
    const position = await changelogId(`after->>'body' = 'no key'`);

    await waitFor('row 3 on its legacy topic', () => ids().includes(3), 60_000);
    const letter = await waitFor('the poison dead letter', () => deadLetters().find((d) => d.message.headers['dlq-position'] === position), 30_000);
    const v = letter.value as DeadLetterValue;
    assert.equal(v.entity, entity);
    assert.equal(v.position, position);
    assert.equal(v.rejection, 'poison');
    assert.match(v.reason, /key column id is missing from the after image/);
    assert.equal(letter.message.headers['dlq-error-kind'], 'data');
    assert.match(letter.message.headers['dlq-reason'] ?? '', /key column id is missing/);
    assert.ok(
      events.on(h.topic('docs')).every((e) => (e.key as { id: unknown }).id !== null),
      'no event without a key reached the legacy topic',
    );
  });

  it('reports capture lag > 0 while an open transaction holds committed changes back', async () => {
    const lag = async (): Promise<number> => {
      const text = await fetch(h.apps[0]!.url('/metrics')).then((r) => r.text());
      const line = text.split('\n').find((l) => l.startsWith(`sync_capture_lag_seconds{entity="${entity}"`));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
    };
    await waitFor('lag back to 0 first', async () => ((await lag()) === 0 ? true : undefined), 30_000, 200);

    const open = new Client({ connectionString: h.db.url });
    await open.connect();
    try {
      await open.query('BEGIN');
      await open.query(`INSERT INTO docs VALUES (100, 'in a long transaction')`);
      // Committed after the open transaction began: below no watermark until it ends.
      await h.db.exec(`INSERT INTO docs VALUES (101, 'committed, held back')`);
      const heldFor = Date.now();
      const seen = await waitFor('capture lag above 0 while the transaction is open', async () => {
        const value = await lag();
        return value > 0 ? value : undefined;
      }, 10_000, 200);
      assert.ok(seen > 0, `sync_capture_lag_seconds ${seen}`);
      // Still open after 10 s: the lag keeps growing, it never falls back to 0.
      await waitFor('10 s with the transaction open', () => (Date.now() - heldFor >= 10_000 ? true : undefined), 15_000, 500);
      const later = await lag();
      assert.ok(later >= 9, `lag after 10 s held back: ${later}`);
      assert.ok(!ids().includes(101), 'the held-back change is not published while the watermark is held');
      await open.query('COMMIT');
    } finally {
      await open.end().catch(() => undefined);
    }
    await waitFor('both rows published once the transaction ends', () => ids().includes(100) && ids().includes(101), 60_000);
    await waitFor('lag back to 0', async () => ((await lag()) === 0 ? true : undefined), 30_000, 200);
  });
});
