import type { TableConfig } from '@sync/config';
import { DataError, errorKind, hostileTextProblem } from '@sync/errors';
import type { CapturedChange, RejectedChange, Row } from './capture-source.interface';

function isRow(value: unknown): value is Row {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The problem with a decoded change's key, or undefined when it can become an event: the image
 * that carries the key exists, every key column is a non-null scalar, and key text is valid
 * Unicode without NUL (it becomes the Kafka message key and a key-map entry).
 */
export function changeKeyProblem(table: TableConfig, change: CapturedChange): string | undefined {
  const imageName = change.op === 'd' ? 'before' : 'after';
  const image: unknown = change.op === 'd' ? change.before : change.after;
  if (!isRow(image)) return `the ${imageName} image is missing or not a row (op ${change.op})`;
  for (const column of table.key) {
    const value = image[column];
    if (value === null || value === undefined) return `key column ${column} is missing from the ${imageName} image`;
    if (typeof value === 'string') {
      const problem = hostileTextProblem(value);
      if (problem) return `key column ${column} ${problem}`;
    } else if (typeof value !== 'number' && typeof value !== 'boolean') {
      return `key column ${column} is not a scalar value`;
    }
  }
  return undefined;
}

/** Whatever key values a raw image shows, for the dead letter; null when there are none. */
export function bestEffortKey(table: TableConfig, ...images: unknown[]): Row | null {
  for (const image of images) {
    if (!isRow(image)) continue;
    const key: Row = {};
    for (const column of table.key) key[column] = image[column] ?? null;
    if (table.key.some((c) => key[c] !== null)) return key;
  }
  return null;
}

/**
 * Decodes a page of changelog rows one by one. A row that fails with a data error (or decodes to
 * a change without a usable key) is rejected and the others go on; any other failure (connection,
 * schema, unknown) fails the whole read, so the position does not move.
 */
export async function decodeChanges<R>(
  table: TableConfig,
  rows: readonly R[],
  decode: (row: R) => Promise<CapturedChange>,
  identify: (row: R) => { changeId: string; txId: string | null; key: Row | null },
): Promise<{ changes: CapturedChange[]; rejected: RejectedChange[] }> {
  const changes: CapturedChange[] = [];
  const rejected: RejectedChange[] = [];
  const entity = `${table.system}.${table.schema}.${table.name}`;
  for (const row of rows) {
    try {
      const change = await decode(row);
      const problem = changeKeyProblem(table, change);
      if (problem) throw new DataError(`${entity}: change ${change.changeId}: ${problem}`);
      changes.push(change);
    } catch (err) {
      if (errorKind(err) !== 'data') throw err;
      rejected.push({ ...identify(row), error: err });
    }
  }
  return { changes, rejected };
}
