import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertIdentifier, ConfigValidationError, quoteIdent } from '@sync/config';

describe('assertIdentifier', () => {
  it('accepts mixed case, reserved words, $ and inner spaces (they are quoted later)', () => {
    for (const name of ['order', 'User Name', 'CustomerNo', '_tmp', 'a$b', 'x'.repeat(128)]) {
      assert.doesNotThrow(() => assertIdentifier(name, 'p'), name);
    }
  });

  it('rejects anything else, naming the path', () => {
    for (const name of ['', '1abc', 'e-mail', 'a;b', 'a"b', 'a]b', ' lead', 'trail ', 'x'.repeat(129), 'dot.ted']) {
      assert.throws(
        () => assertIdentifier(name, 'systems.crm.tables[0].name'),
        (error: unknown) =>
          error instanceof ConfigValidationError && error.issues[0]?.path === 'systems.crm.tables[0].name',
        JSON.stringify(name),
      );
    }
    assert.throws(() => assertIdentifier(42, 'p'), ConfigValidationError);
  });

  it("enforces PostgreSQL's 63-byte limit only for postgres", () => {
    const long = 'a'.repeat(64);
    assert.doesNotThrow(() => assertIdentifier(long, 'p', 'mssql'));
    assert.throws(() => assertIdentifier(long, 'p', 'postgres'), /63-byte/);
    assert.doesNotThrow(() => assertIdentifier('a'.repeat(63), 'p', 'postgres'));
  });
});

describe('quoteIdent', () => {
  it('quotes and escapes per dialect', () => {
    assert.equal(quoteIdent('postgres', 'User Name'), '"User Name"');
    assert.equal(quoteIdent('postgres', 'a"b'), '"a""b"');
    assert.equal(quoteIdent('mssql', 'order'), '[order]');
    assert.equal(quoteIdent('mssql', 'a]b'), '[a]]b]');
  });

  it('rejects names no server accepts', () => {
    assert.throws(() => quoteIdent('postgres', ''), ConfigValidationError);
    assert.throws(() => quoteIdent('mssql', 'a\u0000b'), ConfigValidationError);
  });
});
