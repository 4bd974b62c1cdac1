import { topicSegment } from '@sync/config';
/** Names of every Kafka topic the suite uses, in one place (see docs/architecture.md "Shape"). */

function segment(value: string, what: string): string {
  // One derivation shared with the config validator, which refuses tables whose topics would clash.
  const cleaned = topicSegment(value);
  if (cleaned === undefined) {
    throw new Error(`invalid ${what} "${value}" for a topic name: use letters, digits, "_", "-" or "$"`);
  }
  return cleaned;
}

export interface TableRef {
  readonly system: string;
  readonly schema: string;
  readonly table: string;
}

function tableTopic(prefix: string, ref: TableRef): string {
  return `${prefix}.${segment(ref.system, 'system')}.${segment(ref.schema, 'schema')}.${segment(ref.table, 'table')}`;
}

export const Topics = {
  /** Technical change events captured by legacy-import. */
  legacy: (ref: TableRef): string => tableTopic('legacy', ref),
  /** Change events with global ids attached by id-translation. */
  keyed: (ref: TableRef): string => tableTopic('keyed', ref),
  /** Write-back commands keyed by global id, produced by domain-transform. */
  writeback: (ref: TableRef): string => tableTopic('writeback', ref),
  /** Write-back commands with legacy keys filled in, consumed by legacy-writeback. */
  resolved: (ref: TableRef): string => tableTopic('resolved', ref),
  /** Business events (CloudEvents) for one aggregate and schema version. */
  domain: (aggregate: string, version: number): string => {
    if (!Number.isInteger(version) || version < 1) throw new Error(`invalid domain event version ${version}`);
    return `domain.${segment(aggregate, 'aggregate')}.v${version}`;
  },
  /** Messages an app could not process, with the reason in headers. */
  dlq: (app: string): string => `dlq.${segment(app, 'app')}`,
  control: 'sync.control',
  /** Every control change, kept by time (sync.control keeps only the latest per key). */
  controlHistory: 'sync.control.history',
  offsets: 'sync.offsets',
  /** Latest outcome per entity of operator checks (key: `<entity>|verify`), shown by the status console. */
  status: 'sync.status',
  conflicts: 'sync.conflicts',
  idmapLinks: 'idmap.links',
} as const;

/** Topics that keep only the latest value per key. */
export const COMPACTED_TOPICS: readonly string[] = [Topics.control, Topics.offsets, Topics.status];

/** Patterns the apps subscribe to. */
export const TopicPatterns = {
  legacy: /^legacy\./,
  keyed: /^keyed\./,
  writeback: /^writeback\./,
  resolved: /^resolved\./,
  domain: /^domain\./,
} as const;

/** Splits `<prefix>.<system>.<schema>.<table>` back into its parts; undefined when it is not one. */
export function parseTableTopic(topic: string): (TableRef & { prefix: string }) | undefined {
  const parts = topic.split('.');
  if (parts.length !== 4) return undefined;
  const [prefix, system, schema, table] = parts as [string, string, string, string];
  return { prefix, system, schema, table };
}
