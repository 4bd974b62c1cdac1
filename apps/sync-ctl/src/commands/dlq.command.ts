import { Topics } from '@sync/contracts';
import type { KafkaConnection, OutboundRecord, TopicAdmin } from '@sync/kafka';
import { EXIT, UsageError, type Command } from '../command';
import { commandProgress, type ProgressSink } from '../progress';
import { DLQ_APPS, matches, parseCount, parseTime, purgePlan, replayDecision, supersededLetters, toDeadLetter, type DeadLetter, type DeadLetterFilter } from '../dlq/dead-letters';
import { withKafka } from './kafka-session';
import { loadPipeline, maxPositionals, parseOptions } from './pipeline-args';
import { formatTable } from './table-format';

const FILTER_OPTIONS = {
  pipeline: { type: 'string' },
  app: { type: 'string' },
  entity: { type: 'string' },
  reason: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
} as const;
const SHOW_OPTIONS = { pipeline: { type: 'string' }, json: { type: 'boolean' } } as const;
const REPLAY_OPTIONS = { ...FILTER_OPTIONS, all: { type: 'boolean' }, 'max-replays': { type: 'string' }, 'dry-run': { type: 'boolean' }, 'progress-every': { type: 'string' } } as const;
const PURGE_OPTIONS = { pipeline: { type: 'string' }, app: { type: 'string' }, until: { type: 'string' }, all: { type: 'boolean' }, yes: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } } as const;
const APP_COMPLETION = { values: { app: DLQ_APPS }, files: ['pipeline'] };

const FILTER_HELP = `Filters (all optional, combined with AND):
  --app APP        one app's DLQ: ${DLQ_APPS.join(', ')} (default: all four)
  --entity S.S.T   dead letters whose source topic is about table system.schema.table
  --reason TEXT    the dlq-reason header contains TEXT (case-insensitive)
  --since T        failed at or after T; --until T: failed before T.
                   T is ISO-8601 (2026-12-06T10:00:00Z) or a duration before now (30m, 2h, 7d)
  --key KEY        the message key equals KEY
  --pipeline FILE  pipeline file (Kafka settings); default PIPELINE_FILE`;

function appsOf(value: string | undefined): string[] {
  if (value === undefined) return [...DLQ_APPS];
  if (!(DLQ_APPS as readonly string[]).includes(value)) throw new UsageError(`--app ${value}: use one of ${DLQ_APPS.join(', ')}`);
  return [value];
}

function filterOf(values: { entity?: string; reason?: string; since?: string; until?: string; key?: string }, now: number): DeadLetterFilter {
  if (values.entity !== undefined && !/^[^.\s]+\.[^.\s]+\.[^.\s]+$/.test(values.entity)) throw new UsageError(`--entity ${values.entity}: use system.schema.table`);
  const since = values.since === undefined ? undefined : parseTime('--since', values.since, now);
  const until = values.until === undefined ? undefined : parseTime('--until', values.until, now);
  if (since !== undefined && until !== undefined && since >= until) throw new UsageError(`--since ${values.since} is not before --until ${values.until}`);
  return {
    ...(values.entity !== undefined ? { entity: values.entity } : {}),
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
    ...(values.key !== undefined ? { key: values.key } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
  };
}

/** Every dead letter of the apps' DLQs, read up to the end offsets of when the read began. */
async function readDeadLetters(connection: KafkaConnection, admin: TopicAdmin, apps: readonly string[]): Promise<DeadLetter[]> {
  const all: DeadLetter[] = [];
  for (const app of apps) {
    const topic = Topics.dlq(app);
    if ((await admin.partitionOffsets(topic)).length === 0) continue;
    all.push(...(await connection.readAll(topic)).map((m) => toDeadLetter(app, m)));
  }
  return all;
}

function summary(d: DeadLetter): Record<string, unknown> {
  return { id: d.id, app: d.app, key: d.key, failedAt: d.failedAt, errorKind: d.errorKind, reason: d.reason, sourceTopic: d.sourceTopic, sourcePartition: d.sourcePartition, sourceOffset: d.sourceOffset, attempts: d.attempts, replayCount: d.replayCount };
}

function oneLine(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export const dlqListCommand: Command = {
  path: ['dlq', 'list'],
  options: FILTER_OPTIONS,
  complete: APP_COMPLETION,
  summary: 'list dead letters (filter by app, entity, reason, time, key)',
  help: `Usage: sync-ctl dlq list [filters] [--json]

Reads dlq.<app> from its start to its end when the command began (a bounded read: dead letters
arriving meanwhile are not shown) and lists those matching the filters, oldest first per partition.
The id column (<dlq topic>/<partition>/<offset>) names one dead letter for \`sync-ctl dlq show\`.

${FILTER_HELP}

Example:
  sync-ctl dlq list --app legacy-writeback --entity crm.public.users --since 2h --json`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, FILTER_OPTIONS);
    maxPositionals(positionals, 0, 'use the filter options');
    const apps = appsOf(values.app);
    const filter = filterOf(values, Date.now());
    const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
    const letters = (await withKafka(pipeline, io, ({ connection, admin }) => readDeadLetters(connection, admin, apps))).filter((d) => matches(d, filter));
    if (values.json) io.out(JSON.stringify(letters.map(summary)));
    else io.out(formatTable(['id', 'failed at', 'kind', 'key', 'source topic', 'replays', 'reason'], letters.map((d) => [d.id, d.failedAt, d.errorKind, d.key ?? '', d.sourceTopic, String(d.replayCount), oneLine(d.reason)])));
    return EXIT.ok;
  },
};

function parseId(id: string | undefined): { topic: string; partition: number; offset: string } {
  const m = id === undefined ? null : /^(dlq\.[^/]+)\/(\d+)\/(\d+)$/.exec(id);
  if (!m) throw new UsageError(`${id === undefined ? 'name the dead letter' : `"${id}" is not a dead-letter id`}: use <dlq topic>/<partition>/<offset> as printed by \`sync-ctl dlq list\`, e.g. dlq.legacy-writeback/0/42`);
  const app = m[1]!.slice('dlq.'.length);
  appsOf(app);
  return { topic: m[1]!, partition: Number(m[2]), offset: m[3]! };
}

export const dlqShowCommand: Command = {
  path: ['dlq', 'show'],
  options: SHOW_OPTIONS,
  complete: { files: ['pipeline'] },
  summary: 'one dead letter in full: every header, key and value',
  help: `Usage: sync-ctl dlq show <dlq topic>/<partition>/<offset> [--pipeline FILE] [--json]

Prints one dead letter: the failure (reason, error kind, source topic/partition/offset, attempts,
failed at, replay count), every header, the key and the value (parsed when it is JSON).
Exit code 1 when no such dead letter exists (deleted by purge or retention, or a wrong id).

Example:
  sync-ctl dlq show dlq.legacy-writeback/0/42`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, SHOW_OPTIONS);
    maxPositionals(positionals, 1, 'one dead-letter id');
    const id = parseId(positionals[0]);
    const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
    const app = id.topic.slice('dlq.'.length);
    const found = (await withKafka(pipeline, io, ({ connection, admin }) => readDeadLetters(connection, admin, [app]))).find((d) => d.partition === id.partition && d.offset === id.offset);
    if (!found) {
      io.err(`sync-ctl dlq show: no dead letter ${positionals[0]} (deleted by purge or retention, or not written yet)`);
      return EXIT.failed;
    }
    const value = (() => {
      if (found.value === null) return null;
      try {
        return JSON.parse(found.value) as unknown;
      } catch {
        return found.value;
      }
    })();
    const full = { ...summary(found), headers: found.headers, value };
    if (values.json) io.out(JSON.stringify(full));
    else {
      io.out(formatTable(['field', 'value'], Object.entries(summary(found)).map(([k, v]) => [k, String(v ?? '')])));
      io.out('\nheaders:');
      io.out(formatTable(['header', 'value'], Object.entries(found.headers).map(([k, v]) => [k, oneLine(v, 200)])));
      io.out(`\nvalue:\n${typeof value === 'string' || value === null ? String(value) : JSON.stringify(value, null, 2)}`);
    }
    return EXIT.ok;
  },
};

export const dlqReplayCommand: Command = {
  path: ['dlq', 'replay'],
  options: REPLAY_OPTIONS,
  complete: APP_COMPLETION,
  summary: 'put dead letters back on their original topic (after fixing the cause)',
  help: `Usage: sync-ctl dlq replay (filters | --all) [--max-replays N] [--dry-run] [--progress-every N] [--json]

Republishes each matching dead letter to its original topic (header dlq-source-topic), same key and
value, with every original header except the dlq-* failure headers, plus dlq-replay-count (previous
count + 1), dlq-replayed-at and dlq-replayed-from (<dlq topic>/<partition>/<offset>). The app then
processes it as any message: the write-back's inbox makes a command already applied a no-op.
A message that failed again after N replays (dlq-replay-count >= N) is refused and reported, so a
message whose cause is not fixed cannot loop for ever; a dead letter that was replayed and failed
again is refused too (the newer dead letter, whose dlq-replayed-from names it, stands for it). Replaying does not remove the dead letter
(Kafka cannot delete single records): narrow later replays with --since, or purge.

${FILTER_HELP}
  --all              replay every dead letter (required when no filter is given)
  --max-replays N    refuse messages already replayed N times (default 3)
  --dry-run          print what would be replayed or refused; publish nothing
  --progress-every N progress on stderr (messages done/total, rate, ETA) every N messages (default
                     1000) and at least every second; only on a terminal unless this option is
                     given; never with --json

Exit codes: 0 all matching dead letters replayed, 1 some were refused, 2 bad arguments, 3 Kafka unreachable.

Example:
  sync-ctl dlq replay --app legacy-writeback --reason "violates check constraint" --dry-run`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, REPLAY_OPTIONS);
    maxPositionals(positionals, 0, 'use the filter options');
    const apps = appsOf(values.app);
    const filter = filterOf(values, Date.now());
    const maxReplays = parseCount('--max-replays', values['max-replays'], 3, 1);
    const progressEvery = parseCount('--progress-every', values['progress-every'], 1000, 1);
    if (Object.keys(filter).length === 0 && values.app === undefined && !values.all) throw new UsageError('name what to replay: a filter (--app, --entity, --reason, --since, --until, --key) or --all');
    const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
    const dryRun = values['dry-run'] === true;
    const result = await withKafka(pipeline, io, async ({ connection, admin, producer }) => {
      const read = await readDeadLetters(connection, admin, apps);
      const superseded = supersededLetters(read);
      const letters = read.filter((d) => matches(d, filter));
      const now = new Date();
      const replayed: Array<{ id: string; topic: string; replayCount: number }> = [];
      const refused: Array<{ id: string; reason: string }> = [];
      const records: OutboundRecord[] = [];
      for (const d of letters) {
        const decision = replayDecision(d, maxReplays, now, superseded.get(d.id));
        if ('refused' in decision) refused.push({ id: d.id, reason: decision.refused });
        else {
          records.push(decision.replay);
          replayed.push({ id: d.id, topic: decision.replay.topic, replayCount: d.replayCount + 1 });
        }
      }
      if (!dryRun) {
        // An explicit --progress-every asks for progress lines even into a log file (as before the reporter).
        const progress = commandProgress(io, { label: 'dlq replay', unit: 'messages', json: values.json === true, force: values['progress-every'] !== undefined, everyUnits: progressEvery });
        await sendWithProgress(producer, records, progressEvery, progress);
      }
      return { dryRun, matched: letters.length, replayed, refused };
    });
    if (values.json) io.out(JSON.stringify(result));
    else {
      io.out(`${dryRun ? 'would replay' : 'replayed'} ${result.replayed.length} of ${result.matched} matching dead letters${result.refused.length ? `; refused ${result.refused.length}` : ''}`);
      if (result.replayed.length) io.out(formatTable(['id', 'to topic', 'replay count'], result.replayed.map((r) => [r.id, r.topic, String(r.replayCount)])));
      if (result.refused.length) io.out(formatTable(['refused', 'why'], result.refused.map((r) => [r.id, r.reason])));
    }
    return result.refused.length > 0 ? EXIT.failed : EXIT.ok;
  },
};

async function sendWithProgress(producer: { send(records: readonly OutboundRecord[]): Promise<unknown> }, records: readonly OutboundRecord[], every: number, progress: ProgressSink): Promise<void> {
  const chunk = Math.min(every, 500);
  progress.setTotal(records.length);
  for (let i = 0; i < records.length; i += chunk) {
    const batch = records.slice(i, i + chunk);
    await producer.send(batch);
    progress.add(batch.length);
  }
  progress.finish();
}

export const dlqPurgeCommand: Command = {
  path: ['dlq', 'purge'],
  options: PURGE_OPTIONS,
  complete: APP_COMPLETION,
  summary: 'delete the dead letters of one app that failed before a time',
  help: `Usage: sync-ctl dlq purge --app APP (--until T | --all) (--yes | --dry-run) [--pipeline FILE] [--json]

Kafka cannot delete single records, only everything before an offset of a partition (DeleteRecords).
So purge deletes, per partition of dlq.<app>, the dead letters from the start of the partition up to
the first one that failed at or after T (the first newer one and everything after it stay, even
those older than T that follow it). --all deletes every dead letter present when the command began.
No other filter applies. Nothing is deleted without --yes; --dry-run prints the per-partition plan.
Purged dead letters cannot be replayed: list or replay them first.

Example:
  sync-ctl dlq purge --app legacy-writeback --until 7d --dry-run`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, PURGE_OPTIONS);
    maxPositionals(positionals, 0, 'use the filter options');
    if (values.app === undefined) throw new UsageError(`--app is required: purge works on one DLQ (${DLQ_APPS.join(', ')})`);
    const app = appsOf(values.app)[0]!;
    if ((values.until === undefined) === (values.all !== true)) throw new UsageError('give exactly one of --until T or --all');
    const until = values.until === undefined ? Number.POSITIVE_INFINITY : parseTime('--until', values.until, Date.now());
    const dryRun = values['dry-run'] === true;
    if (!dryRun && values.yes !== true) throw new UsageError('purge deletes dead letters for good: add --yes (or --dry-run to see what it would delete)');
    const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
    const topic = Topics.dlq(app);
    const plan = await withKafka(pipeline, io, async ({ connection, admin }) => {
      const p = purgePlan(await readDeadLetters(connection, admin, [app]), until);
      if (!dryRun) await admin.deleteRecordsBefore(topic, p);
      return p;
    });
    const total = plan.reduce((n, p) => n + p.count, 0);
    if (values.json) io.out(JSON.stringify({ topic, dryRun, deleted: total, partitions: plan }));
    else {
      io.out(`${dryRun ? 'would delete' : 'deleted'} ${total} dead letters from ${topic}`);
      if (plan.length) io.out(formatTable(['partition', 'deleted before offset', 'dead letters'], plan.map((p) => [String(p.partition), p.offset, String(p.count)])));
    }
    return EXIT.ok;
  },
};
