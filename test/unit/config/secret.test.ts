import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { format, inspect } from 'node:util';
import { ConfigValidationError, isSecretRef, resolveSecret, Secret } from '@sync/config';

const VALUE = 'pa55-w0rd-1234';
const dir = mkdtempSync(join(tmpdir(), 'config-secret-'));

function problemOf(run: () => unknown): { path: string; message: string; text: string } {
  try {
    run();
  } catch (error: unknown) {
    assert.ok(error instanceof ConfigValidationError);
    assert.equal(error.issues.length, 1);
    const [issue] = error.issues;
    assert.ok(issue);
    return { path: issue.path, message: issue.message, text: error.message };
  }
  assert.fail('expected a ConfigValidationError');
}

describe('resolveSecret', () => {
  it('reads an environment variable', () => {
    assert.equal(resolveSecret({ env: 'CRM_DB_PASSWORD' }, 'x', { CRM_DB_PASSWORD: VALUE }).reveal(), VALUE);
  });

  it('reads a file and drops one trailing newline only', () => {
    const lf = join(dir, 'lf');
    const crlf = join(dir, 'crlf');
    const inner = join(dir, 'inner');
    writeFileSync(lf, `${VALUE}\n`);
    writeFileSync(crlf, `${VALUE}\r\n`);
    writeFileSync(inner, ` ${VALUE} \n\n`);
    assert.equal(resolveSecret({ file: lf }, 'x').reveal(), VALUE);
    assert.equal(resolveSecret({ file: crlf }, 'x').reveal(), VALUE);
    assert.equal(resolveSecret({ file: inner }, 'x').reveal(), ` ${VALUE} \n`);
  });

  it('names the config path and the variable when the variable is missing or empty', () => {
    for (const env of [{}, { CRM_DB_PASSWORD: '' }]) {
      const problem = problemOf(() => resolveSecret({ env: 'CRM_DB_PASSWORD' }, 'systems.crm.connection.password', env));
      assert.equal(problem.path, 'systems.crm.connection.password');
      assert.equal(problem.message, 'environment variable CRM_DB_PASSWORD is not set or empty');
    }
  });

  it('names the config path and the file, never the content', () => {
    const missing = join(dir, 'missing');
    const problem = problemOf(() => resolveSecret({ file: missing }, 'kafka.sasl.password'));
    assert.equal(problem.path, 'kafka.sasl.password');
    assert.equal(problem.message, `cannot read secret file ${missing} (ENOENT)`);

    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    assert.equal(problemOf(() => resolveSecret({ file: empty }, 'p')).message, `secret file ${empty} is empty`);
  });
});

describe('Secret', () => {
  const secret = new Secret(VALUE);

  it('reveals its value only on request', () => {
    assert.equal(secret.reveal(), VALUE);
  });

  it('never shows its value in JSON, inspect, format or string conversions', () => {
    const holder = { password: secret, nested: { list: [secret] } };
    // Careless string building on purpose: exactly what must not leak.
    const renderings = [
      JSON.stringify(holder),
      JSON.stringify(secret),
      inspect(secret),
      inspect(holder, { depth: 10, showHidden: true }),
      format('%s %o %O %j', secret, holder, holder, holder),
      `${secret}`,
      String(secret),
      'x' + secret,
      Object.keys(secret).join(),
      JSON.stringify({ ...secret }),
    ];
    for (const rendering of renderings) {
      assert.ok(!rendering.includes(VALUE), `leaked in: ${rendering}`);
    }
    assert.equal(JSON.stringify(holder), '{"password":"***","nested":{"list":["***"]}}');
    assert.equal(secret.toString(), '***');
    assert.equal(inspect(secret), '***');
  });
});

describe('isSecretRef', () => {
  it('accepts exactly one of env or file', () => {
    assert.equal(isSecretRef({ env: 'A_B' }), true);
    assert.equal(isSecretRef({ file: '/run/secrets/x' }), true);
    assert.equal(isSecretRef({ env: 'A', file: '/x' }), false);
    assert.equal(isSecretRef({ env: 'not a name' }), false);
    assert.equal(isSecretRef({ value: 'x' }), false);
    assert.equal(isSecretRef('inline'), false);
  });
});
