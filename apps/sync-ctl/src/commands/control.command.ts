import { userInfo } from 'node:os';
import type { PipelineConfig } from '@sync/config';
import { parseJsonValue, Topics } from '@sync/contracts';
import { controlKey, ControlState, DIRECTIONS, initialStates, parseControlMessage, type ControlMessage, type Direction, type SyncState } from '@sync/control';
import { EXIT, UsageError, type Command, type CommandIo, type CompletionHints } from '../command';
import { reach, urlAddress } from '../dependency';
import { commandProgress, formatProgress } from '../progress';
import { withKafka } from './kafka-session';
import { loadPipeline, maxPositionals, parseOptions } from './pipeline-args';
import { formatTable } from './table-format';

function entities(pipeline: PipelineConfig): string[] {
  return [...pipeline.systems.values()].flatMap((s) => s.tables.map((t) => `${s.name}.${t.schema}.${t.name}`));
}

function requireEntity(pipeline: PipelineConfig, entity: string | undefined): string {
  if (!entity) throw new UsageError('name the entity: <system>.<schema>.<table>');
  const known = entities(pipeline);
  if (!known.includes(entity)) throw new UsageError(`entity "${entity}" is not in the pipeline file (known: ${known.join(', ')})`);
  return entity;
}

function directionsOf(value: string | undefined): Direction[] {
  if (value === undefined || value === 'both') return [...DIRECTIONS];
  if (!DIRECTIONS.includes(value as Direction)) throw new UsageError(`--direction ${value}: use legacy-to-new, new-to-legacy or both`);
  return [value as Direction];
}

/**
 * Who makes the change: --by, else the OS user name. The apps dead-letter a control record with an
 * empty `by` (parseControlMessage), so an empty name is refused here, before anything is written:
 * `--by "$USER"` with USER unset must not print success and change nothing.
 */
function author(by: string | undefined): string {
  if (by !== undefined) {
    if (by.trim() === '') throw new UsageError('--by: must not be empty (who makes the change; without --by: the OS user name)');
    return by;
  }
  let name = '';
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry for the uid (some containers): fall through to the error below
  }
  if (name.trim() === '') throw new UsageError('the OS user has no name: pass --by NAME (who makes the change)');
  return name;
}

const SWITCH_OPTIONS = {
  pipeline: { type: 'string' },
  direction: { type: 'string' },
  reason: { type: 'string' },
  by: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const SWITCH_COMPLETION: CompletionHints = { values: { direction: ['legacy-to-new', 'new-to-legacy', 'both'] }, files: ['pipeline'] };
const RESNAPSHOT_OPTIONS = {
  pipeline: { type: 'string' },
  reason: { type: 'string' },
  by: { type: 'string' },
  json: { type: 'boolean' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  progress: { type: 'boolean' },
} as const;
const LIST_OPTIONS = { pipeline: { type: 'string' }, json: { type: 'boolean' } } as const;

function switchCommand(name: 'pause' | 'resume' | 'enable' | 'disable', state: SyncState, summary: string, effect: string): Command {
  return {
    path: [name],
    summary,
    options: SWITCH_OPTIONS,
    complete: SWITCH_COMPLETION,
    help: `Usage: sync-ctl ${name} <system.schema.table> [--direction legacy-to-new|new-to-legacy|both] [--reason TEXT] [--by NAME] [--pipeline FILE] [--json]

${effect}
Every app applies it within seconds, without a restart. Direction defaults to both.
Written to the compacted topic sync.control (and sync.control.history), with who, when and why.

Example:
  sync-ctl ${name} crm.public.users --direction legacy-to-new --reason "cut-over rehearsal"`,
    async run(args, io) {
      const { values, positionals } = parseOptions(args, SWITCH_OPTIONS);
      maxPositionals(positionals, 1, 'one entity per command');
      const directions = directionsOf(values.direction);
      const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
      const entity = requireEntity(pipeline, positionals[0]);
      const at = new Date().toISOString();
      const by = author(values.by);
      const messages: ControlMessage[] = directions.map((direction) => ({ entity, direction, state, by, at, reason: values.reason ?? '' }));
      await publish(pipeline, io, messages);
      if (values.json) io.out(JSON.stringify(messages));
      else for (const m of messages) io.out(`${entity} ${'direction' in m ? m.direction : ''}: ${state}`);
      return EXIT.ok;
    },
  };
}

async function publish(pipeline: PipelineConfig, io: CommandIo, messages: readonly ControlMessage[]): Promise<void> {
  await withKafka(pipeline, io, async ({ producer, admin }) => {
    await admin.ensureTopics([{ topic: Topics.control, compacted: true }, { topic: Topics.controlHistory }]);
    await producer.send(
      messages.flatMap((m) => {
        const value = JSON.stringify(m);
        return [
          { topic: Topics.control, key: controlKey(m), value },
          { topic: Topics.controlHistory, key: m.entity, value },
        ];
      }),
    );
  });
}

export const pauseCommand = switchCommand('pause', 'paused', 'pause an entity: nothing flows, positions are kept', 'Pauses the entity: nothing flows in that direction; positions are kept, so `resume` delivers everything that happened meanwhile, in order.');
export const resumeCommand = switchCommand('resume', 'enabled', 'resume a paused entity: everything held back is delivered', 'Resumes a paused entity: everything that happened while it was paused is delivered, in order.');
export const enableCommand = switchCommand('enable', 'enabled', 'enable an entity (a disabled one is re-snapshotted)', 'Enables the entity. If it was disabled, legacy-import re-snapshots it first, then delivers the changes made meanwhile that the changelog still holds; legacy-writeback applies the commands it held back.');
export const disableCommand = switchCommand('disable', 'disabled', 'disable an entity: it stops; re-enabling re-snapshots', 'Disables the entity: it stops flowing (new-side commands are held, legacy changes stay in the changelog). Enabling it again re-snapshots it from the legacy table.');

export const resnapshotCommand: Command = {
  path: ['resnapshot'],
  summary: 're-read one entity from its legacy table while others keep streaming',
  options: RESNAPSHOT_OPTIONS,
  complete: { files: ['pipeline'] },
  help: `Usage: sync-ctl resnapshot <system.schema.table> [--reason TEXT] [--by NAME] [--wait [--timeout SECONDS] [--progress]] [--pipeline FILE] [--json]

Asks legacy-import to publish the whole table again (op "r" events), then continue streaming from
where it was. Other entities are not affected. --json prints the control message written.
  --wait            stay until legacy-import has finished the re-snapshot, with progress on stderr
                    (rows done/total, rate, ETA; on a terminal, or with --progress; never with --json)
  --timeout S       give up waiting after S seconds (default 3600): exit 1, the re-snapshot goes on`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, RESNAPSHOT_OPTIONS);
    maxPositionals(positionals, 1, 'one entity per command');
    const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
    const entity = requireEntity(pipeline, positionals[0]);
    const timeoutS = values.timeout === undefined ? 3600 : Number(values.timeout);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 86_400) throw new UsageError(`--timeout: seconds between 0 and 86400, got "${values.timeout}"`);
    if (values.timeout !== undefined && !values.wait) throw new UsageError('--timeout goes with --wait');
    const message: ControlMessage = { entity, action: 'resnapshot', by: author(values.by), reason: values.reason ?? '', at: new Date().toISOString() };
    await publish(pipeline, io, [message]);
    if (!values.wait) {
      if (values.json) io.out(JSON.stringify([message]));
      else io.out(`${entity}: re-snapshot requested`);
      return EXIT.ok;
    }
    const progress = commandProgress(io, { label: `re-snapshot ${entity}`, json: values.json === true, force: values.progress === true });
    const finished = await waitForSnapshot(pipeline, io, entity, Date.parse(message.at), timeoutS * 1000, progress);
    progress.finish();
    if (values.json) io.out(JSON.stringify([{ ...message, finished }]));
    else io.out(finished ? `${entity}: re-snapshot finished at ${finished.finishedAt}, ${finished.rows} rows` : `${entity}: re-snapshot not finished after ${timeoutS} s (it goes on; see sync-ctl status)`);
    return finished ? EXIT.ok : EXIT.failed;
  },
};

interface FinishedSnapshot {
  readonly snapshotId: string;
  readonly finishedAt: string;
  readonly rows: number;
}

/**
 * Follows the entity's capture state in sync.offsets until legacy-import saves a streaming state
 * whose last finished snapshot is newer than `requestedAt` (apps/legacy-import capture-state.ts),
 * reporting the snapshot's progress meanwhile. Undefined after `timeoutMs`.
 */
async function waitForSnapshot(pipeline: PipelineConfig, io: CommandIo, entity: string, requestedAt: number, timeoutMs: number, progress: ReturnType<typeof commandProgress>): Promise<FinishedSnapshot | undefined> {
  const deadline = Date.now() + timeoutMs;
  let reported = 0;
  return withKafka(pipeline, io, async ({ connection }) => {
    for (;;) {
      const raw = (await connection.readCompacted(Topics.offsets)).get(entity)?.value?.toString();
      const state = raw ? (JSON.parse(raw) as { phase?: string; lastSnapshot?: Partial<FinishedSnapshot>; progress?: { done?: unknown; total?: unknown } }) : undefined;
      const last = state?.phase === 'streaming' ? state.lastSnapshot : undefined;
      if (last && typeof last.finishedAt === 'string' && Date.parse(last.finishedAt) >= requestedAt && typeof last.snapshotId === 'string' && typeof last.rows === 'number') {
        progress.setTotal(last.rows);
        progress.add(Math.max(0, last.rows - reported));
        return { snapshotId: last.snapshotId, finishedAt: last.finishedAt, rows: last.rows };
      }
      if (state?.phase === 'snapshot' && typeof state.progress?.done === 'number' && typeof state.progress.total === 'number') {
        progress.setTotal(state.progress.total);
        progress.add(Math.max(0, state.progress.done - reported));
        reported = state.progress.done;
      }
      if (Date.now() >= deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(0, deadline - Date.now()))));
    }
  });
}

export const historyCommand: Command = {
  path: ['history'],
  summary: 'every control change, oldest first, with who, when and why',
  options: LIST_OPTIONS,
  complete: { files: ['pipeline'] },
  help: `Usage: sync-ctl history [<system.schema.table>] [--pipeline FILE] [--json]

Lists the control changes recorded in sync.control.history (all entities, or one).`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, LIST_OPTIONS);
    maxPositionals(positionals, 1, 'at most one entity');
    const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
    const only = positionals[0] === undefined ? undefined : requireEntity(pipeline, positionals[0]);
    const messages = await withKafka(pipeline, io, async ({ connection, admin }) => {
      await admin.ensureTopics([{ topic: Topics.controlHistory }]);
      return (await connection.readAll(Topics.controlHistory)).flatMap((m) => {
        try {
          return [parseControlMessage(parseJsonValue(m.value))];
        } catch {
          return [];
        }
      });
    });
    const rows = messages.filter((m) => only === undefined || m.entity === only).sort((a, b) => a.at.localeCompare(b.at));
    if (values.json) io.out(JSON.stringify(rows));
    else io.out(formatTable(['at', 'entity', 'change', 'by', 'reason'], rows.map((m) => [m.at, m.entity, 'action' in m ? 'resnapshot' : `${m.direction} ${m.state}`, m.by, m.reason])));
    return EXIT.ok;
  },
};

interface SnapshotStatus {
  done: number;
  total: number;
  startedAt: string;
  rowsPerSecond: number;
  etaSeconds: number | null;
}

/** The progress legacy-import saves with a snapshot state in sync.offsets (apps/legacy-import capture-state.ts). */
function snapshotStatus(state: { phase?: string; progress?: { done?: unknown; total?: unknown; startedAt?: unknown } }, now: number): SnapshotStatus | null {
  const p = state.progress;
  if (state.phase !== 'snapshot' || typeof p?.done !== 'number' || typeof p.total !== 'number' || typeof p.startedAt !== 'string' || Number.isNaN(Date.parse(p.startedAt))) return null;
  const seconds = (now - Date.parse(p.startedAt)) / 1000;
  const rowsPerSecond = seconds > 0 ? p.done / seconds : 0;
  return { done: p.done, total: p.total, startedAt: p.startedAt, rowsPerSecond: Math.round(rowsPerSecond * 10) / 10, etaSeconds: rowsPerSecond > 0 ? Math.round(Math.max(0, p.total - p.done) / rowsPerSecond) : null };
}

interface EntityStatus {
  entity: string;
  legacyToNew: SyncState;
  newToLegacy: SyncState;
  capture: string;
  /** While legacy-import snapshots the table: rows read of the rows it held when the snapshot began, average rate, ETA. */
  snapshot: SnapshotStatus | null;
  legacyEvents: number;
  /** When legacy-import last published a change of the entity (ISO-8601), and how long ago in seconds. */
  lastChangeSeen: string | null;
  secondsSinceLastChange: number | null;
  writebackPending: number;
  /** Write-back commands id-translation holds until a key they need is known; null without KEYMAP_DATABASE_URL. */
  parked: number | null;
}

/**
 * Parked commands per entity from id-translation's key map, when its database is configured. The
 * key map is optional here: unreachable (within the connect timeout), status reports "-" and says
 * why on stderr rather than failing, so it still shows the switches during a database outage.
 */
async function parkedCounts(io: CommandIo): Promise<Map<string, number> | undefined> {
  const url = io.env.keymap.databaseUrl?.reveal();
  if (!url) return undefined;
  // Loaded here, not at start: TypeORM is the heaviest import and most runs have no key map.
  const { createKeymapDataSource, KeymapReadModel } = await import('@sync/keymap');
  const ds = createKeymapDataSource(url, { poolSize: 1 });
  try {
    await reach({ kind: 'keymap-db', label: 'key map database', address: urlAddress(url) }, io.connectTimeoutMs, () => ds.initialize());
    return await new KeymapReadModel(ds).parkedPerTable();
  } catch (err) {
    io.err(`sync-ctl status: parked counts unavailable: ${(err as Error).message.replace(/\s+/g, ' ')}`);
    return undefined;
  } finally {
    if (ds.isInitialized) await ds.destroy().catch(() => undefined);
  }
}

export const statusCommand: Command = {
  path: ['status'],
  summary: 'per entity: switches, capture phase, events published, write-backs pending, DLQ counts',
  options: LIST_OPTIONS,
  complete: { files: ['pipeline'] },
  help: `Usage: sync-ctl status [--pipeline FILE] [--json]

Per entity: the legacy→new and new→legacy switches, legacy-import's capture phase (streaming, or
snapshot with rows done/total, rows/s and ETA), the events held in its legacy.* topic and when the newest was published, the write-back commands not yet applied
(lag of legacy-writeback's consumer group on resolved.*) and, when KEYMAP_DATABASE_URL is set,
the commands id-translation has parked (shown as "-", with the reason on stderr, when that database
does not answer); then the dead-letter count per app.
Exit code 1 when any dead letters exist.`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, LIST_OPTIONS);
    maxPositionals(positionals, 0, 'status takes no arguments');
    const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
    const systems = [...pipeline.systems.keys()].sort();
    // Same naming rule as legacy-writeback's consumer group (apps/legacy-writeback legacy-writeback.service.ts).
    const writebackGroup = `legacy-writeback.${systems.join('+')}`;
    const report = await withKafka(pipeline, io, async ({ connection, admin }) => {
      await admin.ensureTopics([{ topic: Topics.control, compacted: true }, { topic: Topics.offsets, compacted: true }]);
      const control = new ControlState(initialStates(pipeline));
      for (const m of (await connection.readCompacted(Topics.control)).values()) {
        try {
          control.apply(parseControlMessage(parseJsonValue(m.value)));
        } catch {
          // an invalid record is reported by the apps' dead-letter queues
        }
      }
      const offsets = await connection.readCompacted(Topics.offsets);
      const rows: EntityStatus[] = [];
      for (const system of pipeline.systems.values()) {
        for (const t of system.tables) {
          const entity = `${system.name}.${t.schema}.${t.name}`;
          const ref = { system: system.name, schema: t.schema, table: t.name };
          const state = (() => {
            const raw = offsets.get(entity)?.value?.toString();
            return raw ? (JSON.parse(raw) as { phase?: string; progress?: { done?: unknown; total?: unknown; startedAt?: unknown } }) : undefined;
          })();
          const phase = state ? (state.phase ?? '?') : 'not started';
          rows.push({
            entity,
            legacyToNew: control.stateOf(entity, 'legacy-to-new'),
            newToLegacy: control.stateOf(entity, 'new-to-legacy'),
            capture: phase,
            snapshot: state ? snapshotStatus(state, Date.now()) : null,
            legacyEvents: await admin.messageCount(Topics.legacy(ref)),
            ...(await (async () => {
              const at = await connection.latestMessageTime(Topics.legacy(ref));
              return at === undefined ? { lastChangeSeen: null, secondsSinceLastChange: null } : { lastChangeSeen: new Date(at).toISOString(), secondsSinceLastChange: Math.round((Date.now() - at) / 1000) };
            })()),
            writebackPending: await admin.groupLag(writebackGroup, Topics.resolved(ref)),
            parked: null,
          });
        }
      }
      const dlq: Record<string, number> = {};
      for (const app of ['legacy-import', 'id-translation', 'domain-transform', 'legacy-writeback']) dlq[app] = await admin.messageCount(Topics.dlq(app));
      return { entities: rows, deadLetters: dlq };
    });
    // After Kafka, which status cannot do without: its deadline decides first when both are down.
    const parked = await parkedCounts(io);
    for (const row of report.entities) row.parked = parked ? (parked.get(row.entity) ?? 0) : null;
    if (values.json) io.out(JSON.stringify(report));
    else {
      io.out(
        formatTable(
          ['entity', 'legacy→new', 'new→legacy', 'capture', 'legacy events', 'last change seen', 'write-backs pending', 'parked'],
          report.entities.map((r) => [
            r.entity,
            r.legacyToNew,
            r.newToLegacy,
            r.snapshot ? formatProgress({ label: 'snapshot', unit: 'rows', done: r.snapshot.done, total: r.snapshot.total, elapsedMs: Date.now() - Date.parse(r.snapshot.startedAt) }).replace('snapshot: ', 'snapshot ') : r.capture,
            String(r.legacyEvents),
            r.secondsSinceLastChange === null ? '-' : `${r.secondsSinceLastChange} s ago`,
            String(r.writebackPending),
            r.parked === null ? '-' : String(r.parked),
          ]),
        ),
      );
      io.out('');
      io.out(formatTable(['app', 'dead letters'], Object.entries(report.deadLetters).map(([app, n]) => [app, String(n)])));
    }
    return Object.values(report.deadLetters).some((n) => n > 0) ? EXIT.failed : EXIT.ok;
  },
};
