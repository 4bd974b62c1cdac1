import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEnv } from '@sync/config';
import { DependencyUnreachableError, EXIT, UsageError, type Command, type CommandIo } from '../../../apps/sync-ctl/src/command';
import { parseConnectTimeout, reach, urlAddress } from '../../../apps/sync-ctl/src/dependency';
import { dispatch, type JsonFailure } from '../../../apps/sync-ctl/src/dispatcher';

function fake(run: (args: readonly string[], io: CommandIo) => Promise<number>): Command {
  return { path: ['thing'], summary: 'test', help: 'Usage: sync-ctl thing', options: { json: { type: 'boolean' } }, run };
}

async function call(command: Command, ...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await dispatch([command], argv, { out: (t) => void out.push(t), err: (t) => void err.push(t), pipelineFile: 'none.yaml', env: loadEnv({}) });
  return { code, out, err };
}

describe('sync-ctl exit codes and JSON errors', () => {
  it('maps a usage error to 2, an unreachable dependency to 3, anything else to 4, each as one line', async () => {
    const usage = await call(fake(() => Promise.reject(new UsageError('--x: bad'))), 'thing');
    assert.deepEqual([usage.code, usage.err], [EXIT.usage, ['sync-ctl thing: --x: bad']]);
    const down = await call(fake(() => Promise.reject(new DependencyUnreachableError('kafka', 'Kafka', '127.0.0.1:1', 'no connection within 5 s'))), 'thing');
    assert.deepEqual([down.code, down.err], [EXIT.unavailable, ['sync-ctl thing: Kafka unreachable at 127.0.0.1:1: no connection within 5 s']]);
    const bug = await call(fake(() => Promise.reject(new TypeError('x is not\na function'))), 'thing');
    assert.deepEqual([bug.code, bug.err], [EXIT.internal, ['sync-ctl thing: internal error: x is not a function']]);
    assert.deepEqual([EXIT.ok, EXIT.failed, EXIT.usage, EXIT.unavailable, EXIT.internal], [0, 1, 2, 3, 4]);
  });

  it('with --json, a failure is also a JSON document on stdout', async () => {
    const down = await call(fake(() => Promise.reject(new DependencyUnreachableError('keymap-db', 'key map database', 'db:5432/keymap', 'refused'))), 'thing', '--json');
    const doc = JSON.parse(down.out.join('')) as JsonFailure;
    assert.deepEqual(doc, { ok: false, error: { code: 3, kind: 'unreachable', message: 'key map database unreachable at db:5432/keymap: refused', command: 'thing', dependency: 'keymap-db', address: 'db:5432/keymap' } });
    const unknown = await call(fake(() => Promise.resolve(0)), 'nope', '--json');
    assert.equal(unknown.code, 2);
    assert.equal((JSON.parse(unknown.out.join('')) as JsonFailure).error.kind, 'usage');
    const success = await call(fake((_args, io) => Promise.resolve((io.out('{"fine":true}'), 0))), 'thing', '--json');
    assert.deepEqual(success.out, ['{"fine":true}'], 'success output is the command\'s own document');
  });

  it('--connect-timeout is taken anywhere on the line, validated, and reaches the command', async () => {
    let seen = 0;
    const probe = fake((_args, io) => Promise.resolve(((seen = io.connectTimeoutMs), 0)));
    assert.equal((await call(probe, 'thing')).code, 0);
    assert.equal(seen, 5000, 'default 5 s');
    await call(probe, '--connect-timeout', '1.5', 'thing');
    assert.equal(seen, 1500);
    await call(probe, 'thing', '--connect-timeout=30');
    assert.equal(seen, 30_000);
    for (const bad of ['0', 'abc', '-1', '601', '5s']) {
      const res = await call(probe, 'thing', '--connect-timeout', bad);
      assert.equal(res.code, 2, bad);
      assert.match(res.err[0]!, /--connect-timeout .*: use a number of seconds from 0\.1 to 600/);
    }
    assert.equal((await call(probe, 'thing', '--connect-timeout')).code, 2);
    assert.throws(() => parseConnectTimeout('x', 'SYNC_CTL_CONNECT_TIMEOUT'), /SYNC_CTL_CONNECT_TIMEOUT "x"/);
  });

  it('reach: a rejection names the dependency; no answer gives up at the deadline', async () => {
    const dep = { kind: 'kafka', label: 'Kafka', address: 'k:9092' } as const;
    await assert.rejects(reach(dep, 1000, () => Promise.reject(new Error('connect ECONNREFUSED'))), (err: unknown) => err instanceof DependencyUnreachableError && err.message === 'Kafka unreachable at k:9092: connect ECONNREFUSED');
    const started = Date.now();
    let abandoned = false;
    await assert.rejects(
      reach(dep, 300, () => new Promise(() => {}), { lastError: () => 'Connection timeout', abandon: () => (abandoned = true) }),
      /Kafka unreachable at k:9092: no connection within 0.3 s \(last error: Connection timeout\)/,
    );
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 2000, `gave up after ${took} ms`);
    assert.ok(abandoned);
    assert.equal(await reach(dep, 1000, () => Promise.resolve(7)), 7);
  });

  it('addresses never show credentials', () => {
    assert.equal(urlAddress('postgres://sync:s3cret@db.internal:5433/keymap?sslmode=require'), 'db.internal:5433/keymap');
    assert.equal(urlAddress('not a url'), '(unparsable URL)');
  });
});
