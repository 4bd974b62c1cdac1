import type { KafkaConnection } from '@sync/kafka';
import { Topics } from '@sync/contracts';
import { compareOrders, compareUsers, countCheck, type CountCheck, type Difference } from './checks';
import type { FinalState } from './state.reader';
import type { VerifyOutcome } from './summary';
import type { WorkloadModel } from './workload';

/** Row differences against the model and the count checks, from one read of the databases. */
export function evaluate(model: WorkloadModel, state: FinalState, dlq: number, conflicts: number): { differences: Difference[]; counts: CountCheck[] } {
  const differences = [...compareUsers(model, state.legacyUsers, state.serviceUsers), ...compareOrders(model, state.legacyOrders, state.serviceOrders, state.serviceUsers)];
  const counts = [
    countCheck('legacy -> new: events applied', model.expectedLegacyEvents, state.serviceEventsApplied, 'distinct domain events the new service applied vs. those the legacy changes must yield'),
    countCheck('new -> legacy: commands applied', model.publishedNewEvents, state.inboxRows, 'write-back inbox rows of the new side vs. events it published (one command each)'),
    countCheck('parked in id-translation', 0, state.idTranslationParked, 'commands still waiting for a key'),
    countCheck('parked in legacy-writeback', 0, state.writebackParked, 'commands parked on a foreign-key error'),
    countCheck('dead letters (dlq.*)', 0, dlq, 'messages an app gave up on'),
    countCheck('conflicts (sync.conflicts)', 0, conflicts, 'the sides never edit the same row, so none are expected'),
  ];
  return { differences, counts };
}

export async function kafkaCounts(connection: KafkaConnection): Promise<{ dlq: number; conflicts: number }> {
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

