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
 * holds. Nothing is stripped before parsing: the one table hint the capture statements use,
 * `WITH (READPAST)` on a SELECT, parses; the dialect only rejects hints such as `WITH (HOLDLOCK)`
 * on MERGE, which capture does not issue.
 */
export function parseTsql(text: string): number {
  try {
    return parse(text, 'mssql').length;
  } catch (err) {
    assert.fail(`T-SQL does not parse: ${(err as Error).message}\n${text}`);
  }
}
