import { topicSegment, type TopicSettings } from '@sync/config';
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

/**
 * What a topic holds, which decides its retention and cleanup policy (docs/operations.md "Topic
 * settings"): commands must outlive the longest pause, compacted topics keep the latest value per key.
 */
export type TopicClass = 'technical' | 'domain' | 'commands' | 'deadLetter' | 'audit' | 'compacted';

/** The class of one of the suite's topics; `audit` for any other name (kept by time, never compacted). */
export function topicClass(topic: string): TopicClass {
  if (COMPACTED_TOPICS.includes(topic)) return 'compacted';
  if (topic === Topics.idmapLinks) return 'commands'; // id-translation must still find links written during a pause
  const prefix = topic.split('.', 1)[0];
  switch (prefix) {
    case 'legacy':
    case 'keyed':
      return 'technical';
    case 'domain':
      return 'domain';
    case 'writeback':
    case 'resolved':
      return 'commands';
    case 'dlq':
      return 'deadLetter';
    default:
      return 'audit';
  }
}

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

const HOUR_MS = 3_600_000;

/** Cleanup policy and retention of a topic under the pipeline's `kafka.topics` settings. */
export function topicClassSettings(topic: string, retentionHours: Readonly<Record<Exclude<TopicClass, 'compacted'>, number>>): {
  cleanupPolicy: 'delete' | 'compact';
  retentionMs?: number;
} {
  const cls = topicClass(topic);
  // Compaction keeps the latest value per key with no time limit: these topics are the suite's state.
  if (cls === 'compacted') return { cleanupPolicy: 'compact' };
  return { cleanupPolicy: 'delete', retentionMs: retentionHours[cls] * HOUR_MS };
}

/**
 * How the suite's topics are created and checked (structurally a libs/kafka TopicPolicy): the
 * pipeline's `kafka.topics` settings, with each topic's class deciding its cleanup and retention.
 */
export function topicPolicy(settings: TopicSettings): {
  partitions: number;
  replicationFactor?: number;
  minInsyncReplicas?: number;
  classify: (topic: string) => { cleanupPolicy: 'delete' | 'compact'; retentionMs?: number };
} {
  return {
    partitions: settings.partitions ?? 1,
    ...(settings.replicationFactor !== undefined && { replicationFactor: settings.replicationFactor }),
    ...(settings.minInsyncReplicas !== undefined && { minInsyncReplicas: settings.minInsyncReplicas }),
    classify: (topic) => topicClassSettings(topic, settings.retentionHours),
  };
}
