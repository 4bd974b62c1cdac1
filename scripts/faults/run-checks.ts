import type { KafkaConnection } from '@sync/kafka';
import { Topics } from '@sync/contracts';
import { compareOrders, compareUsers, countCheck, type CountCheck, type Difference } from './checks';
import type { DeadLetter, DeadLetterReport } from './hostile';
import type { FinalState } from './state.reader';
import type { VerifyOutcome } from './summary';
import type { WorkloadModel } from './workload';

/**
 * Row differences against the model and the count checks, from one read of the databases.
 * `hostileLegacyIds`: legacy rows made hostile on purpose (not in the model; their dead letters are
 * checked instead). `deadLetters`: undefined while draining (the DLQ topics are read at the end).
 */
export function evaluate(
  model: WorkloadModel,
  state: FinalState,
  deadLetters: DeadLetterReport | undefined,
  conflicts: number,
  hostileLegacyIds: ReadonlySet<number> = new Set(),
): { differences: Difference[]; counts: CountCheck[] } {
  const legacyUsers = state.legacyUsers.filter((u) => !hostileLegacyIds.has(u.id));
  const differences = [...compareUsers(model, legacyUsers, state.serviceUsers), ...compareOrders(model, state.legacyOrders, state.serviceOrders, state.serviceUsers)];
  const counts = [
    countCheck('legacy -> new: events applied', model.expectedLegacyEvents, state.serviceEventsApplied, 'distinct domain events the new service applied vs. those the legacy changes must yield'),
    countCheck('new -> legacy: commands applied', model.publishedNewEvents, state.inboxRows, 'write-back inbox rows of the new side vs. events it published (one command each)'),
    countCheck('parked in id-translation', 0, state.idTranslationParked, 'commands still waiting for a key'),
    countCheck('parked in legacy-writeback', 0, state.writebackParked, 'commands parked on a foreign-key error'),
    countCheck('conflicts (sync.conflicts)', 0, conflicts, 'the sides never edit the same row, so none are expected'),
  ];
  if (deadLetters) {
    const found = deadLetters.expected.filter((e) => e.found !== undefined).length;
    counts.push(countCheck('expected dead letters (hostile)', deadLetters.expected.length, found, 'each hostile value the run made, found on its dlq.* topic'));
    counts.push(countCheck('unexpected dead letters (dlq.*)', 0, deadLetters.unexpected.length, 'messages an app gave up on that no hostile value accounts for'));
  }
  return { differences, counts };
}

/** Every message of every dlq.* topic of the run's broker, as text the hostile values are matched against. */
export async function readDeadLetters(connection: KafkaConnection): Promise<DeadLetter[]> {
  const admin = connection.admin();
  await admin.connect();
  let topics: string[];
  try {
    topics = (await admin.listTopics()).filter((t) => t.startsWith('dlq.'));
  } finally {
    await admin.disconnect();
  }
  const out: DeadLetter[] = [];
  for (const topic of topics) {
    for (const m of await connection.readAll(topic, 60_000)) {
      const headers = Object.entries(m.headers).map(([k, v]) => `${k}=${v}`).join('\n');
      out.push({
        topic,
        partition: m.partition,
        offset: m.offset,
        text: `${m.key?.toString() ?? ''}\n${m.value?.toString().slice(0, 20_000) ?? ''}\n${headers}`,
        reason: m.headers['dlq-reason'] ?? '',
      });
    }
  }
  return out;
}

export async function kafkaCounts(connection: KafkaConnection): Promise<{ dlq: number; conflicts: number }> {
  // dlq: every dead letter, hostile or not (the checks classify them with readDeadLetters).
  const admin = connection.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    let dlq = 0;
    for (const t of topics.filter((t) => t.startsWith('dlq.'))) dlq += await admin.messageCount(t);
    const conflicts = topics.includes(Topics.conflicts) ? await admin.messageCount(Topics.conflicts) : 0;
    return { dlq, conflicts };
  } finally {
    await admin.disconnect();
  }
}

/** The entities of `sync-ctl verify --all --json`; empty when it printed no report. */
export function parseVerify(stdout: string): VerifyOutcome[] {
  try {
    const parsed = JSON.parse(stdout) as unknown;
    // A failed run prints sync-ctl's error document {"ok":false,"error":{...}} instead of a report.
    if (typeof parsed === 'object' && parsed !== null && (parsed as { ok?: unknown }).ok === false) return [];
    const reports = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
    return reports.map((r) => ({
      entity: String(r['name'] ?? r['entity']),
      agree: r['agree'] === true,
      legacyRows: Number(r['legacyRows'] ?? 0),
      newRows: Number(r['newRows'] ?? 0),
      differences: Array.isArray(r['differences']) ? r['differences'].length : 0,
    }));
  } catch {
    return [];
  }
}

