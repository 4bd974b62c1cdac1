import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type SyncProducer, type TopicAdmin } from '@sync/kafka';
import { LegacyDatabase } from '../../support/legacy-database';
import { checkKeyStream } from '../../support/rebalance-checks';
import { repoRoot, testBrokers, uniqueName, testKafkaConnection } from '../../support/test-env';
import { waitFor } from '../../support/wait-for';

/**
 * Two members of one consumer group (separate processes running the shared BatchConsumerRunner,
 * test/support/rebalance-member.ts) under load, through a scale up, a scale down, a kill -9 and a
 * pause past the session timeout. Each message's PostgreSQL effect must exist exactly once, in
 * order per key, and its Kafka output stream per key must show nothing but replays from the last
 * commit: no stale write from a member that lost its partition.
 */
const APP = uniqueName('rebal');
const PARTITIONS = 4;
const KEYS = 12;
const SESSION_TIMEOUT_MS = 6_000;
const connection = testKafkaConnection({ brokers: testBrokers(), clientId: 'it-rebalance' });
let producer: SyncProducer;
let admin: TopicAdmin;
let db: LegacyDatabase;
const members: Member[] = [];

class Member {
  readonly lines: string[] = [];
  private readonly exited: Promise<unknown>;
  private constructor(readonly name: string, readonly proc: ChildProcess) {
    let rest = '';
    proc.stdout?.on('data', (d: Buffer) => {
      const parts = (rest + d.toString()).split('\n');
      rest = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    proc.stderr?.on('data', (d: Buffer) => this.lines.push(d.toString()));
    this.exited = once(proc, 'exit');
  }

  static async start(name: string, s: Scenario, workMs = 150): Promise<Member> {
    const main = path.join(repoRoot, 'dist', 'test', 'support', 'rebalance-member.js');
    const proc = spawn(process.execPath, ['--enable-source-maps', main], {
      cwd: repoRoot,
      env: {
        PATH: process.env['PATH'] ?? '',
        MEMBER: name,
        APP,
        IN_TOPIC: s.inTopic,
        OUT_TOPIC: s.outTopic,
        GROUP_ID: s.groupId,
        WORK_MS: String(workMs),
        SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
        DATABASE_URL: db.url,
        KAFKA_BROKERS: testBrokers().join(','),
        // The members run on the client under test (confluent/rebalance.test.ts sets it), not kafkajs by default.
        ...(process.env['KAFKA_TEST_CLIENT'] !== undefined && { KAFKA_TEST_CLIENT: process.env['KAFKA_TEST_CLIENT'] }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const member = new Member(name, proc);
    members.push(member);
    await waitFor(`${name} started`, () => member.lines.includes('started') || member.proc.exitCode !== null, 60_000);
    assert.equal(member.proc.exitCode, null, `${name} failed to start: ${member.lines.join('\n')}`);
    return member;
  }

  batches(): number {
    return this.lines.filter((l) => l.startsWith('batch ')).length;
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }

  async stopped(timeoutMs = 60_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    await Promise.race([this.exited, new Promise((_, reject) => setTimeout(() => reject(new Error(`${this.name} did not exit`)), timeoutMs))]);
  }
}

interface Scenario {
  readonly inTopic: string;
  readonly outTopic: string;
  readonly groupId: string;
  readonly total: number;
}

async function scenario(name: string, perKey: number): Promise<Scenario> {
  const s = { inTopic: uniqueName(`it.rebal.${name}.in`), outTopic: uniqueName(`it.rebal.${name}.out`), groupId: uniqueName(`g.rebal.${name}`), total: perKey * KEYS };
  await admin.ensureTopics([
    { topic: s.inTopic, partitions: PARTITIONS },
    { topic: s.outTopic, partitions: PARTITIONS },
  ]);
  await db.exec('TRUNCATE inbox, applied');
  return s;
}

/** Produces `perKey` messages for each key, in rounds, over about `durationMs`. */
async function load(s: Scenario, durationMs: number): Promise<void> {
  const perKey = s.total / KEYS;
  const pause = durationMs / perKey;
  for (let seq = 0; seq < perKey; seq++) {
    await producer.send(Array.from({ length: KEYS }, (_, k) => ({ topic: s.inTopic, key: `k${k}`, value: JSON.stringify({ key: `k${k}`, seq }) })));
    await new Promise((r) => setTimeout(r, pause));
  }
}

async function appliedCount(): Promise<number> {
  const [row] = await db.exec<{ n: string }>('SELECT count(*) AS n FROM applied');
  return Number(row?.n ?? 0);
}

/** The findings a user would check: effects once each and in order, outputs without stale writes, no dead letters. */
async function verify(s: Scenario): Promise<{ replayed: number }> {
  await waitFor(`${s.total} effects applied`, async () => (await appliedCount()) >= s.total, 120_000, 250);
  const perKey = s.total / KEYS;
  const rows = await db.exec<{ key: string; seq: number }>('SELECT key, seq FROM applied ORDER BY n');
  assert.equal(rows.length, s.total, 'every message applied exactly once (no duplicated effect)');
  const byKey = new Map<string, number[]>();
  for (const r of rows) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.seq]);
  for (const [key, seqs] of byKey) assert.deepEqual(seqs, Array.from({ length: perKey }, (_, i) => i), `effects of ${key} in order, none missing`);
  // Every output is written before its batch's commit; once every member is gone, the topic is final.
  for (const m of members) {
    m.signal('SIGCONT');
    m.signal('SIGTERM');
  }
  for (const m of members) await m.stopped();
  members.length = 0;
  const outputs = await connection.readAll(s.outTopic);
  const streams = new Map<string, number[]>();
  for (const o of outputs) {
    const { key, seq } = JSON.parse(o.value?.toString() ?? '{}') as { key: string; seq: number };
    streams.set(key, [...(streams.get(key) ?? []), seq]);
  }
  let replayed = 0;
  const stale: string[] = [];
  for (let k = 0; k < KEYS; k++) {
    const found = checkKeyStream(`k${k}`, streams.get(`k${k}`) ?? [], perKey - 1);
    assert.equal(found.missing, 0, `outputs of k${k} complete`);
    replayed += found.replayed;
    stale.push(...found.stale);
  }
  assert.deepEqual(stale, [], 'no stale output (a write by a member that no longer owned the partition)');
  const dlq = await connection.readAll(`dlq.${APP}`);
  assert.equal(dlq.length, 0, 'no dead letters');
  return { replayed };
}

describe('rebalance safety of the batch consumer (two members, real broker, real PostgreSQL)', { timeout: 600_000 }, () => {
  before(async () => {
    producer = connection.producer();
    await producer.connect();
    admin = connection.admin();
    await admin.ensureTopics([{ topic: `dlq.${APP}` }]);
    db = await LegacyDatabase.create('rebal');
    await db.exec('CREATE TABLE inbox (id text PRIMARY KEY)');
    await db.exec('CREATE TABLE applied (n bigserial PRIMARY KEY, key text NOT NULL, seq int NOT NULL, member text NOT NULL)');
  });

  after(async () => {
    for (const m of members) {
      m.signal('SIGCONT');
      m.signal('SIGKILL');
    }
    await producer.disconnect();
    await admin.disconnect();
    await db.drop().catch(() => undefined);
  });

  it('scale up: a second member joins under load', async () => {
    const s = await scenario('up', 60);
    await Member.start('a', s);
    const loading = load(s, 10_000);
    await waitFor('a working', () => (members[0]?.batches() ?? 0) > 3, 60_000);
    const b = await Member.start('b', s);
    await loading;
    await waitFor('b took partitions', () => b.batches() > 0, 60_000);
    await verify(s);
  });

  it('scale down: one member stops gracefully (SIGTERM) under load', async () => {
    const s = await scenario('down', 60);
    await Member.start('a', s);
    const b = await Member.start('b', s);
    const loading = load(s, 10_000);
    await waitFor('b working', () => b.batches() > 3, 60_000);
    b.signal('SIGTERM');
    await b.stopped();
    await loading;
    await verify(s);
  });

  it('kill -9 of one member under load: its partitions are taken over from the last commit', async () => {
    const s = await scenario('kill', 60);
    await Member.start('a', s);
    const b = await Member.start('b', s);
    const loading = load(s, 10_000);
    await waitFor('b working', () => b.batches() > 3, 60_000);
    b.signal('SIGKILL');
    await loading;
    const { replayed } = await verify(s);
    assert.ok(replayed >= 0);
  });

  // kafkajs only: on the Confluent client a member paused past its session timeout is not fenced
  // (librdkafka learns it on its own thread; the consume loop, busy with the batch, hears of it
  // after the write). A known limit of kafka.client confluent, documented in docs/performance.md
  // "Kafka client libraries"; with its members on the Confluent client this test fails.
  if (process.env['KAFKA_TEST_CLIENT'] !== 'confluent') {
    it('a member paused past its session timeout (SIGSTOP) writes nothing stale when it resumes (SIGCONT)', async () => {
      const s = await scenario('zombie', 80);
      await Member.start('a', s);
      const b = await Member.start('b', s, 600);
      const loading = load(s, 16_000);
      await waitFor('b working', () => b.batches() > 2, 60_000);
      // Right after a batch began: b holds it (in its work) while paused.
      const seen = b.batches();
      await waitFor('b starting a batch', () => b.batches() > seen, 30_000, 5);
      b.signal('SIGSTOP');
      // a takes b's partitions once b's session expires, and goes past b's batch.
      await new Promise((r) => setTimeout(r, SESSION_TIMEOUT_MS + 8_000));
      b.signal('SIGCONT');
      await loading;
      await verify(s);
      assert.ok(b.lines.some((l) => l.includes('batch')), 'b worked before the pause');
    });
  }
});
