/**
 * One member of a consumer group for the rebalance tests, run as its own process so that it can be
 * killed (SIGKILL), stopped gracefully (SIGTERM) or paused (SIGSTOP / SIGCONT). It consumes
 * `IN_TOPIC` with the shared BatchConsumerRunner and, per batch, writes the two kinds of effect the
 * apps write, behind BatchContext.confirmOwnership() as the apps do:
 * - PostgreSQL: an inbox row per message id and an `applied` row when the id was new (the
 *   write-back's exactly-once effect);
 * - Kafka: one output per message to `OUT_TOPIC`, same key, same partition (a transform's output).
 * Every batch prints `batch <partition> <first offset>` before its work, so a test can pause it mid-batch.
 */
import { Pool } from 'pg';
import { sleep, type BatchContext, type InboundMessage, type SyncProducer } from '@sync/kafka';
import { testKafkaConnection } from './test-env';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

const member = env('MEMBER');
const inTopic = env('IN_TOPIC');
const outTopic = env('OUT_TOPIC');
const workMs = Number(env('WORK_MS'));
const pool = new Pool({ connectionString: env('DATABASE_URL'), max: 2 });
const connection = testKafkaConnection({ brokers: env('KAFKA_BROKERS').split(','), clientId: `rebalance-${member}` });
let producer: SyncProducer;

async function handle(messages: readonly InboundMessage[], ctx: BatchContext): Promise<void> {
  process.stdout.write(`batch ${ctx.partition} ${messages[0]?.offset ?? '-'}\n`);
  // The work before the effects: where a pause (SIGSTOP) most likely lands.
  await sleep(workMs, ctx.signal);
  await ctx.confirmOwnership();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const m of messages) {
      const id = `${m.topic}/${m.partition}/${m.offset}`;
      const inserted = await client.query('INSERT INTO inbox (id) VALUES ($1) ON CONFLICT DO NOTHING', [id]);
      if (inserted.rowCount === 1) {
        const { key, seq } = JSON.parse(m.value?.toString() ?? '{}') as { key: string; seq: number };
        await client.query('INSERT INTO applied (key, seq, member) VALUES ($1, $2, $3)', [key, seq, member]);
      }
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  await producer.send(
    messages.map((m) => ({ topic: outTopic, partition: m.partition, key: m.key, value: m.value, headers: { member, 'source-offset': m.offset } })),
  );
}

async function main(): Promise<void> {
  producer = connection.producer();
  await producer.connect();
  const runner = connection.batchConsumer(producer, {
    app: env('APP'),
    groupId: env('GROUP_ID'),
    topics: [inTopic],
    handler: handle,
    sessionTimeoutMs: Number(env('SESSION_TIMEOUT_MS')),
    heartbeatIntervalMs: 1_000,
    maxBytesPerPartition: 4_096,
  });
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void runner
      .stop()
      .then(() => producer.disconnect())
      .then(() => pool.end())
      .then(() => process.exit(0));
  });
  await runner.start();
  process.stdout.write('started\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`member failed: ${String(err)}\n`);
  process.exit(1);
});
