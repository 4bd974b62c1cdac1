import { DLQ_HEADERS, DLQ_REPLAY_HEADERS, type InboundMessage, type OutboundRecord } from '@sync/kafka';
import { UsageError } from '../command';

/** The apps that dead-letter, each to dlq.<app>. */
export const DLQ_APPS = ['legacy-import', 'id-translation', 'domain-transform', 'legacy-writeback'] as const;

/** A dead letter as an operator sees it. */
export interface DeadLetter {
  readonly app: string;
  readonly dlqTopic: string;
  readonly partition: number;
  readonly offset: string;
  /** `<dlq topic>/<partition>/<offset>`: names one dead letter for `show`. */
  readonly id: string;
  readonly key: string | null;
  readonly reason: string;
  readonly errorKind: string;
  readonly sourceTopic: string;
  readonly sourcePartition: string;
  readonly sourceOffset: string;
  readonly failedAt: string;
  readonly attempts: string;
  readonly replayCount: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly value: string | null;
}

export interface DeadLetterFilter {
  readonly entity?: string;
  readonly reason?: string;
  readonly since?: number;
  readonly until?: number;
  readonly key?: string;
}

export function toDeadLetter(app: string, m: InboundMessage): DeadLetter {
  const h = m.headers;
  const replayCount = Number(h[DLQ_REPLAY_HEADERS.replayCount] ?? '0');
  return {
    app,
    dlqTopic: m.topic,
    partition: m.partition,
    offset: m.offset,
    id: `${m.topic}/${m.partition}/${m.offset}`,
    key: m.key === null ? null : m.key.toString('utf8'),
    reason: h[DLQ_HEADERS.reason] ?? '',
    errorKind: h[DLQ_HEADERS.errorKind] ?? '',
    sourceTopic: h[DLQ_HEADERS.sourceTopic] ?? '',
    sourcePartition: h[DLQ_HEADERS.sourcePartition] ?? '',
    sourceOffset: h[DLQ_HEADERS.sourceOffset] ?? '',
    failedAt: h[DLQ_HEADERS.failedAt] ?? new Date(Number(m.timestamp)).toISOString(),
    attempts: h[DLQ_HEADERS.attempts] ?? '',
    replayCount: Number.isInteger(replayCount) && replayCount >= 0 ? replayCount : 0,
    headers: h,
    value: m.value === null ? null : m.value.toString('utf8'),
  };
}

/** `system.schema.table` matches the topics named after that table (legacy.*, keyed.*, writeback.*, resolved.*). */
function entityMatches(sourceTopic: string, entity: string): boolean {
  return sourceTopic === entity || sourceTopic.endsWith(`.${entity}`);
}

export function matches(d: DeadLetter, f: DeadLetterFilter): boolean {
  if (f.entity !== undefined && !entityMatches(d.sourceTopic, f.entity)) return false;
  if (f.reason !== undefined && !d.reason.toLowerCase().includes(f.reason.toLowerCase())) return false;
  if (f.key !== undefined && d.key !== f.key) return false;
  const at = Date.parse(d.failedAt);
  if (f.since !== undefined && !(at >= f.since)) return false;
  if (f.until !== undefined && !(at < f.until)) return false;
  return true;
}

const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** An ISO-8601 time or a duration before now (`90s`, `15m`, `2h`, `7d`, `1w`); the error names the option. */
export function parseTime(option: string, value: string, now: number): number {
  const rel = /^(\d+)([smhdw])$/.exec(value);
  if (rel) return now - Number(rel[1]) * UNITS_MS[rel[2]!]!;
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return t;
  }
  throw new UsageError(`${option} ${value}: use an ISO-8601 time (2026-12-06T10:00:00Z) or a duration before now (30m, 2h, 7d)`);
}

export function parseCount(option: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`${option} ${value}: use a whole number >= ${min}`);
  return Number(value);
}

/** The failure headers a replay removes; the replay headers and every original header stay. */
const FAILURE_HEADERS = new Set<string>(Object.values(DLQ_HEADERS));

export type ReplayDecision = { readonly replay: OutboundRecord } | { readonly refused: string };

/**
 * The record that puts a dead letter back on its original topic, or why it is refused: no source
 * topic, it was replayed and failed again (a newer dead letter, `supersededBy`, stands for it), or
 * it was already replayed `maxReplays` times (it failed again after each replay).
 */
export function replayDecision(d: DeadLetter, maxReplays: number, now: Date, supersededBy?: string): ReplayDecision {
  if (!d.sourceTopic) return { refused: `no ${DLQ_HEADERS.sourceTopic} header` };
  if (supersededBy !== undefined) return { refused: `replayed already and failed again as ${supersededBy}` };
  if (d.replayCount >= maxReplays) return { refused: `replayed ${d.replayCount} times already (--max-replays ${maxReplays})` };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(d.headers)) if (!FAILURE_HEADERS.has(name)) headers[name] = value;
  headers[DLQ_REPLAY_HEADERS.replayCount] = String(d.replayCount + 1);
  headers[DLQ_REPLAY_HEADERS.replayedAt] = now.toISOString();
  headers[DLQ_REPLAY_HEADERS.replayedFrom] = d.id;
  return { replay: { topic: d.sourceTopic, key: d.key, value: d.value, headers } };
}

/** Dead letters that were replayed and failed again: their id -> the newer dead letter's id. */
export function supersededLetters(letters: readonly DeadLetter[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const d of letters) {
    const from = d.headers[DLQ_REPLAY_HEADERS.replayedFrom];
    if (from !== undefined) map.set(from, d.id);
  }
  return map;
}

/**
 * What `purge --until T` deletes: per partition, the longest run of dead letters from the start
 * that all failed before T (Kafka deletes a prefix of a partition, never single records).
 */
export function purgePlan(letters: readonly DeadLetter[], until: number): Array<{ partition: number; offset: string; count: number }> {
  const byPartition = new Map<number, DeadLetter[]>();
  for (const d of letters) {
    let list = byPartition.get(d.partition);
    if (!list) byPartition.set(d.partition, (list = []));
    list.push(d);
  }
  const plan: Array<{ partition: number; offset: string; count: number }> = [];
  for (const [partition, list] of [...byPartition].sort((a, b) => a[0] - b[0])) {
    list.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
    let count = 0;
    let offset: string | undefined;
    for (const d of list) {
      if (!(Date.parse(d.failedAt) < until)) break;
      count++;
      offset = (BigInt(d.offset) + 1n).toString();
    }
    if (offset !== undefined) plan.push({ partition, offset, count });
  }
  return plan;
}
