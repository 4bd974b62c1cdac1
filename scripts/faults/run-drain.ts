import type { KafkaConnection } from '@sync/kafka';
import { sleep } from '../lib/wait';
import { classifyDeadLetters } from './hostile';
import { evaluate, readDeadLetters } from './run-checks';
import { elapsed, say, type Run } from './run-state';
import type { ScenarioControl } from './scenarios';
import type { StateReader } from './state.reader';

/** Legacy ids of the hostile rows the scenarios wrote (they are expected on a dead-letter topic, not on the new side). */
export function hostileIds(scenarios: ScenarioControl): Set<number> {
  return new Set(scenarios.hostile.flatMap((h) => (h.legacyId === undefined ? [] : [h.legacyId])));
}

/**
 * Waits until both databases match the model and every count is complete (and, with hostile
 * values, each one's dead letter is there), or the drain deadline passes.
 */
export async function drain(run: Run, reader: StateReader, scenarios: ScenarioControl, connection: KafkaConnection): Promise<{ drained: boolean; drainSeconds: number }> {
  const drainStart = Date.now();
  let drained = false;
  let lastDlqRead = 0;
  let hostileNote = '';
  let lastNote = 0;
  for (;;) {
    const state = await reader.read().catch(() => undefined);
    if (state) {
      const { differences, counts } = evaluate(run.model, state, undefined, 0, hostileIds(scenarios));
      if (differences.length === 0 && counts.every((c) => c.ok)) {
        // The rows agree; with hostile values, also wait until each one's dead letter is there.
        if (scenarios.hostile.length === 0) {
          drained = true;
          break;
        }
        if (Date.now() - lastDlqRead > 10_000) {
          lastDlqRead = Date.now();
          const report = classifyDeadLetters(scenarios.hostile, await readDeadLetters(connection).catch(() => []));
          if (report.expected.every((e) => e.found)) {
            drained = true;
            break;
          }
          hostileNote = `; expected dead letters ${report.expected.filter((e) => e.found).length}/${report.expected.length}`;
        }
      }
      if (Date.now() - lastNote > 30_000) {
        lastNote = Date.now();
        say(`[${elapsed(run).toFixed(0)} s] draining: ${differences.length} row difference(s), counts ${counts.filter((c) => !c.ok).map((c) => `${c.name} ${c.actual}/${c.expected}`).join(', ') || 'complete'}${hostileNote}`);
      }
    }
    if (Date.now() - drainStart > run.config.drainSeconds * 1000) break;
    await sleep(3000);
  }
  return { drained, drainSeconds: (Date.now() - drainStart) / 1000 };
}
