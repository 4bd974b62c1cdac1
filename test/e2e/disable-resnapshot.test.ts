import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Headers, Topics, type ChangeEvent } from '@sync/contracts';
import { KafkaConnection, silentLog, type SyncProducer } from '@sync/kafka';
import { dataSchemaUri, encodeDomainEvent } from '@sync/mapping';
import { importEntities } from '../support/legacy-import-app';
import { repoRoot, testBrokers } from '../support/test-env';
import { TopicCollector, type Collected } from '../support/topic-collector';
import { TwoWayStack } from '../support/two-way-stack';
import { waitFor } from '../support/wait-for';

const run = promisify(execFile);
const SERVICE_ORIGIN = 'svc:disable-test';
const WAIT_MS = 90_000;

// docs/operations.md, "Per-entity control": `disable` stops both directions, and `enable`
// re-snapshots the entity (legacy→new) — then streams on from where it stopped, so the changes made
// while disabled follow the snapshot — while the commands held back new→legacy are applied.
// `resnapshot` re-reads the whole table (op r) and then streams on: a row changed behind the
// changelog's back reaches the new side. The four apps run as processes; sync-ctl is the real CLI.
describe('per-entity control: disable/enable and resnapshot, with the four apps as processes', () => {
  let stack: TwoWayStack;
  let topics: TopicCollector;
  let producer: SyncProducer;
  const connection = new KafkaConnection({ brokers: testBrokers(), clientId: 'e2e-disable-resnapshot' }, silentLog);
  const ids: Record<string, number> = {};
  const globalIds: Record<string, string> = {};

  const entity = (): string => `${stack.system}.public.users`;
  const legacyTopic = (): string => Topics.legacy({ system: stack.system, schema: 'public', table: 'users' });
  const userTopic = (): string => Topics.domain(stack.userAggregate, 1);
  const changes = (): ChangeEvent[] => topics.on(legacyTopic()).map((c: Collected) => c.value as ChangeEvent);
  const userChanged = (): Array<{ subject: string; origin: string; data: Record<string, unknown> }> =>
    topics
      .on(userTopic())
      .filter((c) => c.message.headers['ce_type'] === 'UserChanged')
      .map((c) => ({ subject: c.message.headers['ce_subject'] ?? '', origin: c.message.headers[Headers.origin] ?? '', data: c.value as Record<string, unknown> }));

  async function syncCtl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [path.join(repoRoot, 'dist', 'apps', 'sync-ctl', 'src', 'main.js'), ...args], { env: { PATH: process.env['PATH'] ?? '', ...stack.env() }, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  async function control(...args: string[]): Promise<void> {
    const res = await syncCtl(...args, entity(), '--by', 'tester', '--reason', 'e2e');
    assert.equal(res.code, 0, res.stderr);
  }

  /** legacy-import's view of the entity (GET /admin/entities). */
  async function importState(): Promise<{ sync: string; phase: string | undefined } | undefined> {
    const found = (await importEntities(stack.app('legacy-import'), stack.env()['ADMIN_TOKEN']!)).find((e) => e.entity === entity());
    return found && { sync: found.sync, phase: found.state?.phase };
  }

  /** legacy-writeback's switch for the entity (GET /admin/control). */
  async function writebackState(): Promise<string | undefined> {
    const res = await fetch(stack.app('legacy-writeback').url('/admin/control'), { headers: { authorization: `Bearer ${stack.env()['ADMIN_TOKEN']!}` } });
    return ((await res.json()) as Array<{ entity: string; direction: string; state: string }>).find((r) => r.entity === entity() && r.direction === 'new-to-legacy')?.state;
  }

  async function legacyName(id: number): Promise<string | undefined> {
    const [row] = await stack.legacy.exec<{ name: string }>('SELECT name FROM users WHERE id = $1', [id]);
    return row?.name;
  }

  before(async () => {
    stack = await TwoWayStack.create();
    producer = connection.producer();
    await producer.connect();
    topics = await new TopicCollector().start([legacyTopic(), userTopic()]);
    await stack.startApps();
    for (const name of ['Ada', 'Bob', 'Cy']) {
      const [row] = await stack.legacy.exec<{ id: number }>(`INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id`, [name, `${name.toLowerCase()}@example.org`]);
      ids[name] = row!.id;
    }
    await waitFor('UserChanged for Ada, Bob and Cy', () => (['Ada', 'Bob', 'Cy'].every((n) => userChanged().some((e) => e.data['name'] === n)) ? true : undefined), WAIT_MS, 200);
    for (const n of ['Ada', 'Bob', 'Cy']) globalIds[n] = userChanged().find((e) => e.data['name'] === n)!.subject;
  });

  after(async () => {
    await topics?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await stack?.close();
  });

  it('disable: nothing flows either way; enable: a re-snapshot, then the changes made meanwhile, and the held write-backs applied', async () => {
    await control('disable');
    await waitFor('legacy-import and legacy-writeback applied the switch', async () => ((await importState())?.sync === 'disabled' && (await writebackState()) === 'disabled' ? true : undefined), WAIT_MS, 200);
    const seen = changes().length;
    const domainSeen = userChanged().length;

    // While disabled: a legacy update and insert (the trigger still logs them), and a new-side change.
    await stack.legacy.exec(`UPDATE users SET name = 'Bob while disabled' WHERE id = $1`, [ids['Bob']]);
    const [dee] = await stack.legacy.exec<{ id: number }>(`INSERT INTO users (name, email) VALUES ('Dee', 'dee@example.org') RETURNING id`);
    ids['Dee'] = dee!.id;
    const eventId = randomUUID();
    const encoded = encodeDomainEvent({ id: eventId, source: '/services/disable-test', type: 'UserChanged', subject: globalIds['Ada']!, time: new Date().toISOString(), dataschema: dataSchemaUri(stack.userAggregate, 1, 'UserChanged'), data: { name: 'Ada from the service', email: 'ada@example.org' } });
    await producer.send([{ topic: userTopic(), key: encoded.key, value: encoded.value, headers: { ...encoded.headers, [Headers.eventId]: eventId, [Headers.origin]: SERVICE_ORIGIN, [Headers.causationId]: eventId } }]);

    // Many poll intervals (100 ms) and the service's event on the domain topic: nothing may move.
    await waitFor('the service event is on the domain topic', () => userChanged().some((e) => e.origin === SERVICE_ORIGIN) || undefined, WAIT_MS, 100);
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(changes().length, seen, 'no legacy change is published while disabled');
    assert.deepEqual(userChanged().slice(domainSeen).map((e) => e.origin), [SERVICE_ORIGIN], 'no legacy domain event while disabled');
    assert.equal(await legacyName(ids['Ada']!), 'Ada', 'no write-back while disabled');
    const status = JSON.parse((await syncCtl('status', '--json')).stdout) as { entities: Array<{ entity: string; legacyToNew: string; newToLegacy: string }> };
    assert.deepEqual(status.entities.filter((e) => e.entity === entity()).map((e) => [e.legacyToNew, e.newToLegacy]), [['disabled', 'disabled']]);

    await control('enable');
    // The held write-back is applied (legacy-writeback held the command; nothing was dropped).
    await waitFor('the write-back held while disabled is applied', async () => ((await legacyName(ids['Ada']!)) === 'Ada from the service' ? true : undefined), WAIT_MS, 200);
    // A re-snapshot: every row as op r, with the values of the moment (Bob's new name, Dee)...
    const snapshot = await waitFor('a re-snapshot of all 4 rows', () => {
      const reads = changes().slice(seen).filter((c) => c.op === 'r');
      return reads.length >= 4 ? reads : undefined;
    }, WAIT_MS, 200);
    assert.deepEqual(snapshot.map((c) => c.after!['id']).sort(), [ids['Ada'], ids['Bob'], ids['Cy'], ids['Dee']].sort());
    assert.equal(snapshot.find((c) => c.after!['id'] === ids['Bob'])!.after!['name'], 'Bob while disabled');
    // ...then the changes made while disabled, still in the changelog, delivered after the snapshot.
    const held = await waitFor('the changes made while disabled follow the snapshot', () => {
      const rest = changes().slice(seen).filter((c) => c.op !== 'r' && (c.after?.['id'] === ids['Bob'] || c.after?.['id'] === ids['Dee']));
      return rest.length >= 2 ? rest : undefined;
    }, WAIT_MS, 200);
    assert.deepEqual(held.map((c) => `${c.op} ${String(c.after!['name'])}`).sort(), ['c Dee', 'u Bob while disabled']);
    // Per row (one key, one partition, in order): the snapshot read first, then the held change.
    for (const name of ['Bob', 'Dee']) {
      const ops = changes().slice(seen).filter((c) => c.after?.['id'] === ids[name]).map((c) => c.op);
      assert.equal(ops[0], 'r', `${name}: ${ops.join(',')}`);
    }
    // The new side hears of both.
    await waitFor('UserChanged for Bob and Dee', () => (userChanged().some((e) => e.data['name'] === 'Bob while disabled') && userChanged().some((e) => e.data['name'] === 'Dee') ? true : undefined), WAIT_MS, 200);
    await waitFor('streaming again', async () => ((await importState())?.phase === 'streaming' ? true : undefined), WAIT_MS, 200);
  });

  it('resnapshot: the whole table again as op r; a change the changelog missed reaches the new side; streaming goes on', async () => {
    await waitFor('streaming', async () => ((await importState())?.phase === 'streaming' ? true : undefined), WAIT_MS, 200);
    // A change behind the changelog's back: the capture triggers (either level) are off for this one UPDATE.
    await stack.legacy.exec(`ALTER TABLE users DISABLE TRIGGER USER; UPDATE users SET email = 'cy@fixed.example.org' WHERE id = ${ids['Cy']!}; ALTER TABLE users ENABLE TRIGGER USER`);
    const seen = changes().length;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(changes().length, seen, 'the changelog missed the update: nothing was published');
    assert.ok(!userChanged().some((e) => e.data['email'] === 'cy@fixed.example.org'));

    // --wait follows legacy-import's capture state until the re-snapshot has finished, with progress.
    const res = await syncCtl('resnapshot', entity(), '--by', 'tester', '--reason', 'after a bulk fix', '--wait', '--timeout', '90', '--progress');
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`^${entity().replace(/\./g, '\\.')}: re-snapshot finished at \\S+, 4 rows`));
    assert.match(res.stderr, /re-snapshot .*4\/4 rows/, 'progress on stderr');

    const reads = await waitFor('every row published again as op r', () => {
      const r = changes().slice(seen).filter((c) => c.op === 'r');
      return r.length >= 4 ? r : undefined;
    }, WAIT_MS, 200);
    assert.deepEqual(reads.map((c) => c.after!['id']).sort(), [ids['Ada'], ids['Bob'], ids['Cy'], ids['Dee']].sort());
    assert.equal(new Set(reads.map((c) => c.source.position.split(':')[1])).size, 1, 'one snapshot run');
    assert.equal(reads.find((c) => c.after!['id'] === ids['Cy'])!.after!['email'], 'cy@fixed.example.org');
    const cy = await waitFor('the missed change reaches the domain topic', () => userChanged().find((e) => e.data['email'] === 'cy@fixed.example.org'), WAIT_MS, 200);
    assert.equal(cy.subject, globalIds['Cy'], 'the same global id as before');
    assert.equal(changes().slice(seen).filter((c) => c.op !== 'r').length, 0, 'a re-snapshot republishes no change');

    // Then it streams on from where it was.
    await waitFor('streaming again', async () => ((await importState())?.phase === 'streaming' ? true : undefined), WAIT_MS, 200);
    await stack.legacy.exec(`UPDATE users SET name = 'Cy after' WHERE id = $1`, [ids['Cy']]);
    const next = await waitFor('a change after the re-snapshot', () => changes().slice(seen).find((c) => c.op === 'u'), WAIT_MS, 200);
    assert.equal(next.after!['name'], 'Cy after');

    const history = JSON.parse((await syncCtl('history', entity(), '--json')).stdout) as Array<{ state?: string; action?: string; direction?: string; by: string }>;
    assert.deepEqual(history.map((h) => h.action ?? `${h.direction} ${h.state}`).sort(), ['legacy-to-new disabled', 'legacy-to-new enabled', 'new-to-legacy disabled', 'new-to-legacy enabled', 'resnapshot'].sort());
  });
});
