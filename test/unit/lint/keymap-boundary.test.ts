import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../support/test-env';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

// The key map's tables have one owner, libs/keymap: apps query them through its repository and
// read model, so a schema change is made in one place.
describe('key-map tables are reached only through libs/keymap', () => {
  it('no app source names a keymap_* table', () => {
    const offenders = sources(path.join(repoRoot, 'apps')).flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      const tables = [...new Set(text.match(/\bkeymap_(entry|pending_insert|parked_command|key_sequence)\b/g) ?? [])];
      return tables.length > 0 ? [`${path.relative(repoRoot, file)}: ${tables.join(', ')}`] : [];
    });
    assert.deepEqual(offenders, []);
  });
});
