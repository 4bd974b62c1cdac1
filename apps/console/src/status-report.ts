import type { PipelineConfig } from '@sync/config';
import { Topics } from '@sync/contracts';
import type { ControlState, SyncState, VerifySummary } from '@sync/control';
import type { PromSample } from '@sync/observability';

/** One app whose /metrics the console read, and whether it answered. */
export interface AppSource {
  readonly app: string;
  readonly url: string;
  readonly up: boolean;
  readonly error?: string;
}

/** One row of the status page. Figures are null when their source did not answer. */
export interface EntityStatus {
  readonly entity: string;
  readonly legacyToNew: SyncState;
  readonly newToLegacy: SyncState;
  readonly capture: {
    /** `snapshot`, `streaming` or `not started` (legacy-import's position on sync.offsets). */
    readonly phase: string;
    /** Rows the snapshot in progress has published (legacy-import's sync_capture_snapshot_rows). */
    readonly snapshotRows: number | null;
    readonly lagSeconds: number | null;
    readonly backlogRows: number | null;
    /** legacy-import stopped the entity on a schema or position problem. */
    readonly stopped: boolean;
  };
  /** Events held by the entity's legacy.* topic. */
  readonly legacyEvents: number | null;
  /** Messages not yet consumed, per app, over every topic of the entity. */
  readonly consumerLag: Readonly<Record<string, number>>;
  /** Commit time of the last captured change (ISO-8601). */
  readonly lastChangeAt: string | null;
  /** Dead letters per `<app>: <error kind>`. */
  readonly deadLetters: Readonly<Record<string, number>>;
  readonly lastVerify: VerifySummary | null;
}

export interface StatusReport {
  readonly collectedAt: string;
  /** False until the console has read sync.control, sync.offsets, sync.status and the DLQs to their end once. */
  readonly caughtUp: boolean;
  readonly apps: readonly AppSource[];
  readonly entities: readonly EntityStatus[];
  /** Dead letters whose source topic is no entity's (per `<app>: <error kind>`). */
  readonly otherDeadLetters: Readonly<Record<string, number>>;
}

/** What the console knows from Kafka (followed live) and from the apps' /metrics (scraped now). */
export interface StatusInputs {
  readonly now: Date;
  readonly caughtUp: boolean;
  readonly control: ControlState;
  readonly phases: ReadonlyMap<string, string>;
  readonly verify: ReadonlyMap<string, VerifySummary>;
  /** entity (or '' for none) → `<app>: <kind>` → count. */
  readonly deadLetters: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly legacyEvents: ReadonlyMap<string, number>;
  readonly apps: readonly AppSource[];
  readonly samples: readonly PromSample[];
}

/** `<system>.<schema>.<table>` of every entity of the pipeline, in file order. */
export function pipelineEntities(pipeline: PipelineConfig): Array<{ entity: string; ref: { system: string; schema: string; table: string } }> {
  return [...pipeline.systems.values()].flatMap((s) => s.tables.map((t) => ({ entity: `${s.name}.${t.schema}.${t.name}`, ref: { system: s.name, schema: t.schema, table: t.name } })));
}

/** Every per-entity topic name (legacy.*, keyed.*, writeback.*, resolved.*) → its entity. */
export function entityTopics(pipeline: PipelineConfig): Map<string, string> {
  const map = new Map<string, string>();
  for (const { entity, ref } of pipelineEntities(pipeline)) {
    for (const topic of [Topics.legacy(ref), Topics.keyed(ref), Topics.writeback(ref), Topics.resolved(ref)]) map.set(topic, entity);
  }
  return map;
}

function sampleValue(samples: readonly PromSample[], name: string, labels: Record<string, string>): number | null {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.length === 0 ? null : found.reduce((sum, s) => sum + s.value, 0);
}

/** Assembles the page's report; pure, so the rules are unit-tested without Kafka or HTTP. */
export function buildStatusReport(pipeline: PipelineConfig, inputs: StatusInputs): StatusReport {
  const topics = entityTopics(pipeline);
  const lagByEntity = new Map<string, Record<string, number>>();
  for (const s of inputs.samples) {
    if (s.name !== 'sync_consumer_lag_messages') continue;
    const entity = topics.get(s.labels['topic'] ?? '');
    const app = s.labels['app'];
    if (entity === undefined || app === undefined) continue;
    const row = lagByEntity.get(entity) ?? {};
    row[app] = (row[app] ?? 0) + s.value;
    lagByEntity.set(entity, row);
  }
  const known = new Set<string>();
  const entities = pipelineEntities(pipeline).map(({ entity }): EntityStatus => {
    known.add(entity);
    const lastChange = sampleValue(inputs.samples, 'sync_capture_last_change_timestamp_seconds', { entity });
    return {
      entity,
      legacyToNew: inputs.control.stateOf(entity, 'legacy-to-new'),
      newToLegacy: inputs.control.stateOf(entity, 'new-to-legacy'),
      capture: {
        phase: inputs.phases.get(entity) ?? 'not started',
        snapshotRows: sampleValue(inputs.samples, 'sync_capture_snapshot_rows', { entity }),
        lagSeconds: sampleValue(inputs.samples, 'sync_capture_lag_seconds', { entity }),
        backlogRows: sampleValue(inputs.samples, 'sync_capture_backlog_rows', { entity }),
        stopped: (sampleValue(inputs.samples, 'sync_capture_entity_stopped', { entity }) ?? 0) > 0,
      },
      legacyEvents: inputs.legacyEvents.get(entity) ?? null,
      consumerLag: lagByEntity.get(entity) ?? {},
      lastChangeAt: lastChange === null || lastChange <= 0 ? null : new Date(lastChange * 1000).toISOString(),
      deadLetters: Object.fromEntries(inputs.deadLetters.get(entity) ?? []),
      lastVerify: inputs.verify.get(entity) ?? null,
    };
  });
  const other: Record<string, number> = {};
  for (const [entity, counts] of inputs.deadLetters) {
    if (known.has(entity)) continue;
    for (const [reason, n] of counts) other[reason] = (other[reason] ?? 0) + n;
  }
  return { collectedAt: inputs.now.toISOString(), caughtUp: inputs.caughtUp, apps: inputs.apps, entities, otherDeadLetters: other };
}
