import assert from 'node:assert/strict';
import { init, parse } from '@guanmingchiu/sqlparser-ts';

let ready: Promise<void> | undefined;

/** Loads the WASM build of sqlparser-rs once per test file. */
export function loadTsqlParser(): Promise<void> {
  ready ??= init();
  return ready;
}

/**
 * Parses one T-SQL batch with sqlparser-rs's MS SQL dialect and returns how many statements it
 * holds. The capture statements use no table hints (the dialect rejects `WITH (HOLDLOCK)` on
 * MERGE), so nothing is stripped before parsing.
 */
export function parseTsql(text: string): number {
  try {
    return parse(text, 'mssql').length;
  } catch (err) {
    assert.fail(`T-SQL does not parse: ${(err as Error).message}\n${text}`);
  }
}
