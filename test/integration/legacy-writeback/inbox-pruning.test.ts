import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import { KafkaConnection, silentLog, type TopicAdmin } from '@sync/kafka';
import { createInboxRetentionStore, createLegacyDb, type LegacyDb } from '@sync/legacy-db';
import { MetricsRegistry } from '@sync/observability';
import { InboxPruner } from '../../../apps/legacy-writeback/src/inbox-pruner';
import { testBrokers } from '../../support/test-env';
import { waitFor } from '../../support/wait-for';
import { postgresDialect } from './writeback-dialects';
import { WritebackHarness } from './writeback-harness';

const quiet = { info: () => undefined, warn: () => undefined };

describe('legacy-writeback inbox retention keeps every command id Kafka can still redeliver', () => {
  let h: WritebackHarness;
  let admin: TopicAdmin;
  let legacy: LegacyDb;
  const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'test-inbox-pruning' }, silentLog);

  const groupId = (): string => `legacy-writeback.${h.system}`;
  const inboxIds = async (): Promise<string[]> => (await h.db.exec<{ command_id: string }>('SELECT command_id FROM sync.inbox ORDER BY command_id')).map((r) => r.command_id);
  const pipelineWith = (settings: string): string => {
    const file = path.join(path.dirname(h.pipelineFile), `pipeline-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `${h.pipelineText()}legacyWriteback: ${settings}\n`);
    return file;
  };
  /** Waits until the database clock is `ms` past the newest inbox row. */
  const inboxOlderThan = (ms: number) =>
    waitFor(`inbox rows older than ${ms} ms`, async () => (await h.db.exec<{ ok: boolean }>('SELECT max(applied_at) < clock_timestamp() - $1::int * interval \'1 millisecond\' AS ok FROM sync.inbox', [ms]))[0]!.ok, 30_000, 100);

  before(async () => {
    h = await WritebackHarness.create(postgresDialect, ['CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)'], `      - name: items\n        key: [id]\n        capture: { mode: trigger }\n`);
    admin = connection.admin();
    legacy = createLegacyDb({ system: h.system, dialect: 'postgres', url: { reveal: () => h.db.url }, poolSize: 1 }, () => undefined);
  });
  after(async () => {
    await admin?.disconnect().catch(() => undefined);
    await legacy?.close().catch(() => undefined);
    await h?.close();
  });

  it('prunes ids of committed commands only; ids applied but not committed stay until the group commits past them', async () => {
    // 1. The write-back applies and commits three commands (its own pruning off).
    const app = await h.startWriteback({ env: { PIPELINE_FILE: pipelineWith('{ inboxPruneIntervalMs: 0 }') } });
    const committed = [1, 2, 3].map((id) => h.command('items', 'upsert', { id }, { name: `n${id}` }));
    await h.send(committed);
    await waitFor('three applied and committed', async () => (await h.inboxCount()) === 3 && (await admin.groupLag(groupId(), h.resolvedTopic('items'))) === 0, 60_000, 200);
    await app.stop();

    // 2. A pruner with a 1 s age limit observes the caught-up group ...
    const config = parsePipeline(`${h.pipelineText()}legacyWriteback: { inboxMaxAgeMs: 1000, inboxPruneMarginMs: 0 }\n`, 'test').legacyWriteback;
    const metrics = new MetricsRegistry('legacy-writeback');
    const pruner = new InboxPruner([{ system: h.config, store: createInboxRetentionStore(legacy, h.config) }], admin, groupId(), config, metrics, quiet);
    const first = await pruner.runOnce();

    // ... then two commands arrive that a write-back applied but crashed before committing:
    // messages on the topic past the committed offset, inbox rows written.
    const uncommitted = [4, 5].map((id) => h.command('items', 'upsert', { id }, { name: `n${id}` }));
    await h.send(uncommitted);
    await h.db.exec(
      `INSERT INTO sync.inbox (command_id, system, schema_name, table_name, global_id, origin, outcome) SELECT c, $2, 'public', 'items', c, 'svc:orders', 'applied' FROM unnest($1::text[]) AS c`,
      [uncommitted.map((c) => c.commandId), h.system],
    );
    await inboxOlderThan(1200);
    const deleted = await pruner.runOnce();
    assert.equal((first.get(`${h.system}.public.items`) ?? 0) + (deleted.get(`${h.system}.public.items`) ?? 0), 3);
    assert.deepEqual(await inboxIds(), uncommitted.map((c) => c.commandId).sort(), 'only the committed ids are pruned');
    await pruner.runOnce();
    assert.deepEqual(await inboxIds(), uncommitted.map((c) => c.commandId).sort(), 'uncommitted ids stay, however old');
    const text = await metrics.render();
    assert.match(text, new RegExp(`sync_writeback_inbox_pruned_total\\{entity="${h.system}\\.public\\.items",app="legacy-writeback"\\} 3`));
    assert.match(text, /sync_writeback_inbox_prune_last_run_seconds\{app="legacy-writeback"\} \d/);

    // 3. The restarted write-back gets them redelivered: the inbox turns them into no-ops (rows 4
    // and 5 are not written), it commits, and its own pruner then removes them.
    const restarted = await h.startWriteback({ env: { PIPELINE_FILE: pipelineWith('{ inboxMaxAgeMs: 1000, inboxPruneIntervalMs: 1000, inboxPruneMarginMs: 0 }') } });
    await waitFor('redelivered and committed', async () => (await admin.groupLag(groupId(), h.resolvedTopic('items'))) === 0, 60_000, 200);
    assert.deepEqual(await h.db.exec('SELECT id FROM items ORDER BY id'), [{ id: 1 }, { id: 2 }, { id: 3 }], 'a redelivered command was applied again');
    await waitFor('the app pruned the now-committed ids', async () => (await inboxIds()).length === 0, 60_000, 250);
    const res = await fetch(restarted.url('/metrics'));
    assert.match(await res.text(), new RegExp(`sync_writeback_inbox_pruned_total\\{entity="${h.system}\\.public\\.items",app="legacy-writeback"\\} 2`));
  });
});
