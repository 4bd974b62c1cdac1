import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { LegacyDatabase } from '../support/legacy-database';
import { repoRoot, testBrokers } from '../support/test-env';
import { TwoWayStack, twoWayVerifyYaml } from '../support/two-way-stack';
import { waitFor } from '../support/wait-for';

const run = promisify(execFile);

/**
 * A legacy primary-key update end to end: the four apps and the sample new service as processes.
 * `UPDATE users SET id = 1003 WHERE id = 3` (orders follow by ON UPDATE CASCADE) must leave the
 * new service with the same three users and orders (one aggregate, same global id), the key map
 * with the new legacy key, and `sync-ctl verify` agreeing on both entities.
 */
describe('primary-key update: the legacy key changes, the aggregate stays', () => {
  let stack: TwoWayStack;
  let service: LegacyDatabase;
  let newService: ChildProcess | undefined;
  let serviceLog = '';

  const users = () => service.exec<{ id: string; name: string }>('SELECT id, name FROM users ORDER BY name');
  const keymapId = async (id: number) =>
    (await stack.keymap.exec<{ global_id: string }>("SELECT global_id FROM keymap_entry WHERE system = $1 AND table_ref = 'public.users' AND local_key = $2", [stack.system, JSON.stringify([String(id)])]))[0]
      ?.global_id;

  before(async () => {
    stack = await TwoWayStack.create((s) => twoWayVerifyYaml(s.system, 6));
    service = await LegacyDatabase.create('e2e_pk_service');
    await stack.legacy.exec('ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey, ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON UPDATE CASCADE');
    await stack.startApps();
    newService = spawn(
      process.execPath,
      [path.join(repoRoot, 'dist/examples/new-service/src/main.js'), '--brokers', testBrokers().join(','), '--database-url', service.url, '--user-aggregate', stack.userAggregate, '--order-aggregate', stack.orderAggregate, '--port', '0', '--name', `pk-${stack.groupPrefix}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) => (serviceLog = (serviceLog + chunk.toString()).slice(-5000));
    newService.stdout?.on('data', keep);
    newService.stderr?.on('data', keep);
  });

  after(async () => {
    if (newService?.pid !== undefined && newService.exitCode === null) {
      newService.kill('SIGTERM');
      await new Promise((resolve) => newService!.once('exit', resolve));
    }
    await stack?.close();
    await service?.drop();
  });

  it('keeps one aggregate with the same global id; orders follow; the key map moves; verify agrees', async () => {
    await stack.legacy.exec(`INSERT INTO users (id, name, email, street, city, zip) SELECT g, 'user ' || g, 'u' || g || '@example.org', g || ' Main St', 'City', '0000' || g FROM generate_series(1, 3) g`);
    await stack.legacy.exec(`INSERT INTO orders (id, user_id, total) SELECT g, g, g * 2.5 FROM generate_series(1, 3) g`);
    const ordersOf = () => service.exec<{ n: number }>('SELECT count(*)::int AS n FROM orders');
    await waitFor('three users and orders in the new service', async () => ((await users()).length === 3 && (await ordersOf())[0]!.n === 3 ? true : undefined), 90_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n${serviceLog}\n${stack.logs()}`);
    });
    const before = await keymapId(3);
    assert.ok(before);

    await stack.legacy.exec("UPDATE users SET id = 1003, name = 'user 3, re-keyed' WHERE id = 3");

    await waitFor('the re-keyed user in the new service', async () => ((await users()).some((u) => u.name === 'user 3, re-keyed') ? true : undefined), 90_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n${serviceLog}\n${stack.logs()}`);
    });
    const after = await users();
    assert.equal(after.length, 3, 'one aggregate for the row, not two');
    assert.equal(after.find((u) => u.name === 'user 3, re-keyed')!.id, before, 'the same global id');
    assert.equal(await keymapId(1003), before, 'the key map names the row by its new legacy key');
    assert.equal(await keymapId(3), undefined);
    const [order] = await service.exec<{ user_id: string }>('SELECT o.user_id FROM orders o WHERE o.user_id = $1', [before]);
    assert.equal(order?.user_id, before, "the user's order still points at it");

    const verify = await run(process.execPath, [path.join(repoRoot, 'dist/apps/sync-ctl/src/main.js'), 'verify', '--all', '--json', '--recheck-delay-ms', '500'], {
      env: { PATH: process.env['PATH'] ?? '', PIPELINE_FILE: stack.pipelineFile, KAFKA_BROKERS: testBrokers().join(','), CRM_DATABASE_URL: stack.legacy.url, KEYMAP_DATABASE_URL: stack.keymap.url, SERVICE_DATABASE_URL: service.url },
      timeout: 120_000,
    }).catch((err: { code: number; stdout: string; stderr: string }) => assert.fail(`verify exit ${err.code}: ${err.stdout}\n${err.stderr}`));
    const reports = JSON.parse(verify.stdout) as Array<{ entity: string; agree: boolean; legacyRows: number; newRows: number }>;
    assert.deepEqual(reports.map((r) => [r.agree, r.legacyRows, r.newRows]), [
      [true, 3, 3],
      [true, 3, 3],
    ]);
  });
});
