import type { TableConfig } from '@sync/config';
import { Headers, legacyOrigin, Topics, type Row } from '@sync/contracts';
import { errorMessage } from '@sync/errors';
import { DLQ_HEADERS, type OutboundRecord } from '@sync/kafka';
import { changeEventId } from './change-record.builder';

export const IMPORT_APP = 'legacy-import';

/** Headers legacy-import adds to its dead letters, next to the shared DLQ_HEADERS. */
export const IMPORT_DLQ_HEADERS = {
  entity: 'dlq-entity',
  position: 'dlq-position',
  encodedBytes: 'dlq-encoded-bytes',
  limitBytes: 'dlq-limit-bytes',
} as const;

export type ImportRejection = 'oversize' | 'poison';

/** One change legacy-import could not publish; the entity goes on past it. */
export interface RejectedImport {
  readonly table: TableConfig;
  /** The change's position (changelog id, LSN ..., or `snapshot:<id>:<key>`). */
  readonly changeId: string;
  readonly key: Row | null;
  readonly txId: string | null;
  readonly rejection: ImportRejection;
  readonly error: unknown;
  readonly encodedBytes?: number;
  readonly limitBytes?: number;
}

const MAX_REASON = 2000;

/**
 * The dead letter for a change: a small reference (entity, key, position, reason, sizes), never
 * the row itself, so it always fits; the row stays readable in the legacy changelog or table.
 */
export function importDeadLetter(r: RejectedImport, now: Date): OutboundRecord {
  const t = r.table;
  const entity = `${t.system}.${t.schema}.${t.name}`;
  const eventId = changeEventId(t, r.changeId);
  const reason = errorMessage(r.error).slice(0, MAX_REASON);
  const value = {
    entity,
    system: t.system,
    schema: t.schema,
    table: t.name,
    key: r.key,
    position: r.changeId,
    txId: r.txId,
    eventId,
    rejection: r.rejection,
    reason,
    ...(r.encodedBytes !== undefined ? { encodedBytes: r.encodedBytes } : {}),
    ...(r.limitBytes !== undefined ? { limitBytes: r.limitBytes } : {}),
    failedAt: now.toISOString(),
  };
  const headers: Record<string, string> = {
    [Headers.eventId]: eventId,
    [Headers.origin]: legacyOrigin(t.system),
    [Headers.causationId]: eventId,
    [DLQ_HEADERS.reason]: reason,
    [DLQ_HEADERS.errorKind]: 'data',
    [DLQ_HEADERS.app]: IMPORT_APP,
    [DLQ_HEADERS.sourceTopic]: Topics.legacy({ system: t.system, schema: t.schema, table: t.name }),
    [DLQ_HEADERS.attempts]: '1',
    [DLQ_HEADERS.failedAt]: now.toISOString(),
    [IMPORT_DLQ_HEADERS.entity]: entity,
    [IMPORT_DLQ_HEADERS.position]: r.changeId,
  };
  if (r.encodedBytes !== undefined) headers[IMPORT_DLQ_HEADERS.encodedBytes] = String(r.encodedBytes);
  if (r.limitBytes !== undefined) headers[IMPORT_DLQ_HEADERS.limitBytes] = String(r.limitBytes);
  // JSON escapes NUL and lone surrogates, so even a hostile key travels intact as the message key.
  return { topic: Topics.dlq(IMPORT_APP), key: r.key ? JSON.stringify(r.key) : entity, value: JSON.stringify(value), headers };
}
