import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KafkaConnection } from '@sync/kafka';
import { countCheck, findDuplicateWrites } from './checks';
import { scenarioOf } from './fault-schedule';
import { classifyDeadLetters, type DeadLetterReport } from './hostile';
import { appProcesses, stillUnready } from './run-processes';
import { evaluate, kafkaCounts, parseVerify, readDeadLetters } from './run-checks';
import { hostileIds } from './run-drain';
import { runNode } from './run-setup';
import { elapsed, say, type Run } from './run-state';
import type { ScenarioControl } from './scenarios';
import type { StateReader } from './state.reader';
import { passed, renderSummary, type FaultsSummary, type InjectedFault } from './summary';

/** Readiness recovers by itself after a fault; an app still not ready this long after the drain fails the run. */
const READY_WITHIN_MS = 60_000;

/** What the steps before the final checks measured. */
export interface RunFigures {
  readonly command: string;
  readonly seedRows: number;
  readonly workloadSeconds: number;
  readonly drainSeconds: number;
  readonly drained: boolean;
}

export interface CheckInputs {
  readonly repoRoot: string;
  readonly env: Record<string, string>;
  readonly reader: StateReader;
  readonly scenarios: ScenarioControl;
  readonly connection: KafkaConnection;
}

/** The final checks (sync-ctl verify, rows against the model, counts, dead letters, readiness, duplicate writes) as the run's summary. */
export async function finalChecks(run: Run, figures: RunFigures, inputs: CheckInputs): Promise<FaultsSummary> {
  const { repoRoot, env, reader, scenarios, connection } = inputs;
  // The oversize rows go first (uncaptured): verify compares whole tables.
  await scenarios.removeHostileRows();
  const verify = await runNode([path.join(repoRoot, 'dist/apps/sync-ctl/src/main.js'), 'verify', '--all', '--json'], env);
  const verifyOutcomes = parseVerify(verify.stdout);
  writeFileSync(path.join(run.config.runDir, 'verify.json'), verify.stdout);
  if (verifyOutcomes.length === 0) say(`sync-ctl verify printed no report (exit ${verify.code}): ${verify.stderr.slice(0, 2000)}`);
  const state = await reader.read();
  const { conflicts } = await kafkaCounts(connection);
  const deadLetterReport: DeadLetterReport = classifyDeadLetters(scenarios.hostile, await readDeadLetters(connection));
  const { differences, counts } = evaluate(run.model, state, deadLetterReport, conflicts, hostileIds(scenarios));
  const unready = await stillUnready(run.processes, READY_WITHIN_MS);
  const appCount = appProcesses(run.processes).length;
  counts.push(countCheck('apps ready at the end', appCount, appCount - unready.length, unready.length === 0 ? '/health/ready answers 200 on every app' : `not ready within ${READY_WITHIN_MS / 1000} s: ${unready.join(', ')}`));
  const duplicates = findDuplicateWrites(await reader.auditWrites());
  const base = {
    seed: run.config.seed,
    command: figures.command,
    startedAt: new Date(run.started).toISOString(),
    durationSeconds: elapsed(run),
    workloadSeconds: figures.workloadSeconds,
    drainSeconds: figures.drainSeconds,
    drained: figures.drained,
    changes: { legacyToNew: run.legacyDriven, newToLegacy: run.newDriven, seedRows: figures.seedRows, byKind: run.model.opCounts },
    events: { legacyExpected: run.model.expectedLegacyEvents, newPublished: run.model.publishedNewEvents },
    faults: [...run.faults].sort((a, b) => a.atSeconds - b.atSeconds),
    verify: verifyOutcomes,
    verifyExitCode: verify.code,
    differences,
    duplicates,
    counts,
    deadLetters: {
      expected: deadLetterReport.expected.map((e) => ({ kind: e.value.kind, key: e.value.key, expectedTopic: e.value.expectedTopic ?? 'dlq.*', foundOn: e.found && `${e.found.topic}[${e.found.partition}]@${e.found.offset}` })),
      unexpected: deadLetterReport.unexpected.map((u) => ({ topic: u.topic, partition: u.partition, offset: u.offset, reason: u.reason })),
    },
    scenarios: scenarioRows(run.faults, deadLetterReport),
  };
  return { ...base, passed: passed(base) };
}

/** Per scenario: the faults injected and the hostile values' dead letters (differences and duplicates are the run's). */
function scenarioRows(faults: readonly InjectedFault[], report: DeadLetterReport): FaultsSummary['scenarios'] {
  const names = [...new Set(faults.map((f) => scenarioOf(f.kind)))];
  const hostile = scenarioOf('hostile-oversize');
  if (report.expected.length > 0 && !names.includes(hostile)) names.push(hostile);
  return names.map((name) => ({
    name,
    faults: faults.filter((f) => scenarioOf(f.kind) === name).length,
    deadLettersExpected: name === hostile ? report.expected.length : 0,
    deadLettersFound: name === hostile ? report.expected.filter((e) => e.found).length : 0,
  }));
}

/** Prints and writes the summary (or why the run aborted); returns the exit code. */
export function report(run: Run, summary: FaultsSummary | undefined, files: { summaryFile: string; logDir: string; command: string }): number {
  if (run.aborted || !summary) {
    say(`\nThe run was ABORTED: ${run.aborted}`);
    say(`Faults injected before: ${run.faults.map((f) => `${f.kind} ${f.target} @${f.atSeconds.toFixed(0)} s`).join(', ') || 'none'}; logs in ${files.logDir}`);
    writeFileSync(files.summaryFile, JSON.stringify({ seed: run.config.seed, command: files.command, aborted: run.aborted, faults: run.faults, passed: false }, null, 2));
    say(`Summary (JSON): ${files.summaryFile}`);
    return 1;
  }
  writeFileSync(files.summaryFile, JSON.stringify(summary, null, 2));
  say(`\n${renderSummary(summary)}`);
  say(`Summary (JSON): ${files.summaryFile}`);
  return summary.passed ? 0 : 1;
}
