import { Topics } from './topics';

/**
 * The Kafka ACLs each principal of the suite needs, derived from the topic names in `Topics` and
 * the consumer groups the apps build (docs/security.md explains the model). Pure: `sync-ctl acls`
 * prints and applies it, the prod overlay ships its output, tests apply it to a secured broker.
 */

/** Who connects: the four apps, the status console, and the operators' CLI. */
export const ACL_ROLES = ['legacy-import', 'id-translation', 'domain-transform', 'legacy-writeback', 'console', 'sync-ctl'] as const;
export type AclRole = (typeof ACL_ROLES)[number];

export type AclOperation = 'read' | 'write' | 'create' | 'describe' | 'describe-configs' | 'delete';

export interface KafkaAclEntry {
  /** `User:<name>`: the SCRAM user name, or the CN of the client certificate. */
  readonly principal: string;
  readonly resourceType: 'topic' | 'group';
  readonly patternType: 'literal' | 'prefixed';
  readonly resourceName: string;
  readonly operation: AclOperation;
  /** Why this principal needs it (one phrase, for the table in docs/security.md). */
  readonly why: string;
}

export interface KafkaAclOptions {
  /** idTranslation.groupPrefix of the pipeline (consumer groups `<prefix>.legacy|.writeback|.links`). */
  readonly idTranslationGroupPrefix: string;
  /** domainTransform.groupPrefix of the pipeline (consumer groups `<prefix>.forward|.reverse`). */
  readonly domainTransformGroupPrefix: string;
  /** Principal name per role; default: the role's name. */
  readonly principals?: Readonly<Partial<Record<AclRole, string>>>;
  /**
   * Let the operator principal write the data topics too, for `sync-ctl dlq replay` and
   * `verify --repair` (off by default: then only domain-transform writes `writeback.*`).
   */
  readonly operatorReplay?: boolean;
}

type Grant = readonly [resource: 'topic' | 'group', pattern: 'literal' | 'prefixed', name: string, operations: readonly AclOperation[], why: string];

/** Topic prefixes of the `<prefix>.<system>.<schema>.<table>` and `domain.*` families. */
const P = { legacy: 'legacy.', keyed: 'keyed.', writeback: 'writeback.', resolved: 'resolved.', domain: 'domain.', dlq: 'dlq.' } as const;

// Topics an app creates when missing (TopicAdmin.ensureTopics): it must see them, their settings, and create them.
const ENSURE: readonly AclOperation[] = ['describe', 'describe-configs', 'create'];

/** What every pipeline app does through libs/app-core (KafkaCoreService, ControlWatcher). */
function core(app: string): Grant[] {
  return [
    ['topic', 'literal', Topics.control, [...ENSURE, 'read', 'write'], 'follows the switches; its admin endpoint writes them'],
    ['topic', 'literal', Topics.controlHistory, [...ENSURE, 'write'], 'records switch changes made through its admin endpoint'],
    ['topic', 'literal', Topics.offsets, ENSURE, 'shared topic created at start'],
    ['topic', 'literal', Topics.conflicts, ENSURE, 'shared topic created at start'],
    ['topic', 'literal', Topics.idmapLinks, ENSURE, 'shared topic created at start'],
    ['topic', 'literal', Topics.dlq(app), [...ENSURE, 'write'], 'its dead letters'],
    ['group', 'prefixed', `${app}-control-`, ['read'], 'its control watcher'],
    ['group', 'prefixed', 'topic-reader-', ['read', 'delete'], 'reads a compacted topic to its end (throwaway group)'],
  ];
}

function grants(role: AclRole, options: KafkaAclOptions): Grant[] {
  switch (role) {
    case 'legacy-import':
      return [
        ...core(role),
        ['topic', 'prefixed', P.legacy, [...ENSURE, 'write'], 'publishes captured changes'],
        ['topic', 'literal', Topics.offsets, ['read', 'write'], 'its capture positions'],
      ];
    case 'id-translation':
      return [
        ...core(role),
        ['topic', 'prefixed', P.legacy, [...ENSURE, 'read'], 'reads captured changes'],
        ['topic', 'prefixed', P.keyed, [...ENSURE, 'write'], 'publishes changes with global ids'],
        // Reads write-back requests and creates their topics, but never writes them.
        ['topic', 'prefixed', P.writeback, [...ENSURE, 'read'], 'reads write-back requests'],
        ['topic', 'prefixed', P.resolved, [...ENSURE, 'write'], 'publishes resolved commands'],
        ['topic', 'literal', Topics.idmapLinks, ['read'], 'learns keys the legacy database generated'],
        ['group', 'prefixed', `${options.idTranslationGroupPrefix}.`, ['read'], 'its consumer groups'],
      ];
    case 'domain-transform':
      return [
        ...core(role),
        ['topic', 'prefixed', P.keyed, [...ENSURE, 'read'], 'reads changes with global ids'],
        ['topic', 'prefixed', P.domain, [...ENSURE, 'read', 'write'], 'publishes domain events; reads those of the new services'],
        ['topic', 'prefixed', P.writeback, [...ENSURE, 'write'], 'publishes write-back requests (the only app that may)'],
        ['group', 'prefixed', `${options.domainTransformGroupPrefix}.`, ['read'], 'its consumer groups'],
      ];
    case 'legacy-writeback':
      return [
        ...core(role),
        ['topic', 'prefixed', P.resolved, [...ENSURE, 'read'], 'reads its commands (nothing else)'],
        ['topic', 'literal', Topics.idmapLinks, ['write'], 'publishes keys the legacy database generated'],
        ['topic', 'literal', Topics.conflicts, ['write'], 'publishes the conflicts it resolved'],
        ['group', 'prefixed', `${role}.`, ['read'], 'its consumer group (legacy-writeback.<systems>)'],
      ];
    case 'console':
      return [
        ['topic', 'literal', Topics.control, [...ENSURE, 'read'], 'shows the switches'],
        ['topic', 'literal', Topics.offsets, [...ENSURE, 'read'], 'shows capture positions'],
        ['topic', 'literal', Topics.status, [...ENSURE, 'read'], 'shows verify results'],
        ['topic', 'prefixed', P.dlq, [...ENSURE, 'read'], 'counts dead letters'],
        ['topic', 'prefixed', P.legacy, ['describe'], 'counts captured changes'],
        ['group', 'prefixed', 'console-', ['read'], 'its follower group'],
      ];
    case 'sync-ctl':
      return [
        ['topic', 'literal', Topics.control, [...ENSURE, 'read', 'write'], 'pause, resume, enable, disable, resnapshot'],
        ['topic', 'literal', Topics.controlHistory, [...ENSURE, 'read', 'write'], 'history'],
        ['topic', 'literal', Topics.offsets, [...ENSURE, 'read'], 'status'],
        ['topic', 'literal', Topics.status, [...ENSURE, 'read', 'write'], 'records verify results'],
        ['topic', 'prefixed', P.dlq, ['describe', 'read'], 'dlq list, show; status counts'],
        ['topic', 'prefixed', P.legacy, ['describe', 'read'], 'status: counts and last change'],
        ['topic', 'prefixed', P.resolved, ['describe'], 'status: write-back backlog'],
        ['group', 'literal', '*', ['describe'], 'status: backlog of the apps\u2019 groups'],
        ['group', 'prefixed', 'topic-reader-', ['read', 'delete'], 'reads a compacted topic to its end (throwaway group)'],
        ['group', 'prefixed', 'latest-reader-', ['read', 'delete'], 'reads a topic\u2019s last message (throwaway group)'],
        ...(options.operatorReplay === true ? replayGrants() : []),
      ];
  }
}

/** `dlq replay` puts a dead letter back on the topic it came from; `verify --repair` writes legacy.*. */
function replayGrants(): Grant[] {
  const why = 'dlq replay / verify --repair (operatorReplay)';
  return [
    ...[P.legacy, P.keyed, P.domain, P.writeback, P.resolved].map((prefix): Grant => ['topic', 'prefixed', prefix, ['describe', 'write'], why]),
    ['topic', 'literal', Topics.idmapLinks, ['describe', 'write'], why],
  ];
}

/** Every ACL of every role, one entry per operation, without duplicates, in a stable order. */
export function kafkaAcls(options: KafkaAclOptions): KafkaAclEntry[] {
  const seen = new Set<string>();
  const out: KafkaAclEntry[] = [];
  for (const role of ACL_ROLES) {
    const principal = `User:${options.principals?.[role] ?? role}`;
    for (const [resourceType, patternType, resourceName, operations, why] of grants(role, options)) {
      for (const operation of operations) {
        const key = `${principal}|${resourceType}|${patternType}|${resourceName}|${operation}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ principal, resourceType, patternType, resourceName, operation, why });
      }
    }
  }
  return out;
}

/** Whether `entries` let `principal` do `operation` on topic `topic` (literal or prefix match). */
export function aclAllows(entries: readonly KafkaAclEntry[], principal: string, operation: AclOperation, topic: string): boolean {
  return entries.some(
    (e) =>
      e.principal === principal &&
      e.resourceType === 'topic' &&
      e.operation === operation &&
      (e.patternType === 'literal' ? e.resourceName === topic : topic.startsWith(e.resourceName)),
  );
}
