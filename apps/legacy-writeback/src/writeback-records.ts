import { Headers, Topics, type IdmapLink, type WritebackCommand } from '@sync/contracts';
import type { OutboundRecord } from '@sync/kafka';
import type { SinkConflict, SinkResult } from '@sync/legacy-db';

/** Value of a sync.conflicts record: both versions and what the policy decided. */
export interface ConflictRecord {
  readonly system: string;
  readonly schema: string;
  readonly table: string;
  readonly globalId: string;
  readonly key: Record<string, unknown>;
  readonly commandId: string;
  readonly policy: SinkConflict['policy'];
  readonly resolution: SinkConflict['resolution'];
  readonly basedOn: string | null;
  readonly legacy: SinkConflict['legacy'];
  readonly command: Pick<WritebackCommand, 'op' | 'columns' | 'occurredAt' | 'origin' | 'causationId'>;
}

const APP_ORIGIN = 'legacy-writeback';

/**
 * What a batch publishes after its transaction committed: generated keys to idmap.links and
 * conflicts to sync.conflicts. Redelivered commands (inbox hits) publish their recorded results
 * again, so a crash between commit and publish loses nothing; event ids make them recognisable.
 */
export function resultRecords(commands: readonly WritebackCommand[], results: readonly SinkResult[]): OutboundRecord[] {
  const out: OutboundRecord[] = [];
  results.forEach((result, i) => {
    const c = commands[i]!;
    if (result.key) {
      const link: IdmapLink = { system: c.system, schema: c.schema, table: c.table, key: result.key, globalId: c.globalId, commandId: c.commandId };
      out.push({
        topic: Topics.idmapLinks,
        key: c.globalId,
        value: JSON.stringify(link),
        headers: { [Headers.eventId]: `link:${c.commandId}`, [Headers.origin]: c.origin, [Headers.causationId]: c.commandId },
      });
    }
    if (result.conflict) {
      const record: ConflictRecord = {
        system: c.system,
        schema: c.schema,
        table: c.table,
        globalId: c.globalId,
        key: Object.keys(c.key).length > 0 ? c.key : (result.key ?? {}),
        commandId: c.commandId,
        policy: result.conflict.policy,
        resolution: result.conflict.resolution,
        basedOn: c.basedOn ?? null,
        legacy: result.conflict.legacy,
        command: { op: c.op, columns: c.columns, occurredAt: c.occurredAt, origin: c.origin, causationId: c.causationId },
      };
      out.push({
        topic: Topics.conflicts,
        key: c.globalId,
        value: JSON.stringify(record),
        headers: { [Headers.eventId]: `conflict:${c.commandId}`, [Headers.origin]: APP_ORIGIN, [Headers.causationId]: c.commandId },
      });
    }
  });
  return out;
}
