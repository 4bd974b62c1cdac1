import type { CountCheck, Difference, DuplicateWrite } from './checks';
import type { FaultKind } from './fault-schedule';

/** A fault as it happened. */
export interface InjectedFault {
  readonly kind: FaultKind | 'unplanned-exit';
  readonly target: string;
  /** Seconds since the workload started. */
  readonly atSeconds: number;
  readonly at: string;
  /** Changes driven (both directions) when it fired. */
  readonly atChange: number;
  /** How long the target was down, in ms. */
  readonly downMs: number;
  readonly detail: string;
}

export interface VerifyOutcome {
  readonly entity: string;
  readonly agree: boolean;
  readonly legacyRows: number;
  readonly newRows: number;
  readonly differences: number;
}

export interface FaultsSummary {
  readonly seed: number;
  readonly command: string;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly workloadSeconds: number;
  readonly drainSeconds: number;
  readonly drained: boolean;
  readonly changes: { readonly legacyToNew: number; readonly newToLegacy: number; readonly seedRows: number; readonly byKind: Readonly<Record<string, number>> };
  readonly events: { readonly legacyExpected: number; readonly newPublished: number };
  readonly faults: readonly InjectedFault[];
  readonly verify: readonly VerifyOutcome[];
  readonly verifyExitCode: number | null;
  readonly differences: readonly Difference[];
  readonly duplicates: readonly DuplicateWrite[];
  readonly counts: readonly CountCheck[];
  /** Hostile values and the dead letter found for each; dead letters nothing accounts for. */
  readonly deadLetters: {
    readonly expected: ReadonlyArray<{ readonly kind: string; readonly key: string; readonly expectedTopic: string; readonly foundOn: string | undefined }>;
    readonly unexpected: ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly offset: string; readonly reason: string }>;
  };
  /** Per scenario: faults injected, dead letters expected and found. */
  readonly scenarios: ReadonlyArray<{ readonly name: string; readonly faults: number; readonly deadLettersExpected: number; readonly deadLettersFound: number }>;
  readonly passed: boolean;
}

/** Passed: verify agrees on every entity, no row differs from the model, nothing was written twice, every count matches. */
export function passed(s: Omit<FaultsSummary, 'passed'>): boolean {
  return s.verifyExitCode === 0 && s.verify.length > 0 && s.verify.every((v) => v.agree) && s.differences.length === 0 && s.duplicates.length === 0 && s.counts.every((c) => c.ok);
}

const LIST_LIMIT = 20;

export function renderSummary(s: FaultsSummary): string {
  const lines: string[] = [];
  const planned = s.faults.filter((f) => f.kind !== 'unplanned-exit');
  const unplanned = s.faults.length - planned.length;
  lines.push(`Fault-injection run, seed ${s.seed} (repeat: ${s.command})`);
  lines.push(`  duration        ${s.durationSeconds.toFixed(0)} s (workload ${s.workloadSeconds.toFixed(0)} s, drain ${s.drainSeconds.toFixed(0)} s${s.drained ? '' : ', NOT drained'})`);
  lines.push(`  changes driven  legacy -> new ${s.changes.legacyToNew}, new -> legacy ${s.changes.newToLegacy} (plus ${s.changes.seedRows} seeded rows)`);
  lines.push(`  events          legacy changes must yield ${s.events.legacyExpected} domain events; the new side published ${s.events.newPublished}`);
  lines.push(`  faults          ${planned.length} injected${unplanned > 0 ? `, ${unplanned} unplanned app exit(s) (restarted)` : ''}`);
  for (const f of s.faults) {
    lines.push(`    ${f.atSeconds.toFixed(1).padStart(7)} s  change ${String(f.atChange).padStart(6)}  ${f.kind.padEnd(15)} ${f.target.padEnd(17)} down ${(f.downMs / 1000).toFixed(1)} s  ${f.detail}`);
  }
  lines.push(`  verify          ${s.verify.map((v) => `${v.entity}: ${v.agree ? 'agree' : `${v.differences} difference(s)`} (${v.legacyRows} legacy / ${v.newRows} new rows)`).join('; ') || 'did not run'}${s.verifyExitCode === 0 ? '' : ` [exit ${s.verifyExitCode}]`}`);
  lines.push(`  differences     ${s.differences.length} (final rows of both databases against the workload's expected state)`);
  for (const d of s.differences.slice(0, LIST_LIMIT)) lines.push(`    ${d.side} ${d.entity} ${d.kind} ${d.key} [owner ${d.owner}]: ${d.detail}`);
  if (s.differences.length > LIST_LIMIT) lines.push(`    ... ${s.differences.length - LIST_LIMIT} more in the JSON summary`);
  lines.push(`  duplicates      ${s.duplicates.length} (legacy rows written twice by the write-back)`);
  for (const d of s.duplicates.slice(0, LIST_LIMIT)) lines.push(`    ${d.kind} ${d.key}: ${d.detail}`);
  if (s.duplicates.length > LIST_LIMIT) lines.push(`    ... ${s.duplicates.length - LIST_LIMIT} more in the JSON summary`);
  lines.push('  scenarios');
  for (const sc of s.scenarios) lines.push(`    ${sc.name.padEnd(30)} faults ${String(sc.faults).padStart(3)}, dead letters expected ${sc.deadLettersExpected}, found ${sc.deadLettersFound}`);
  lines.push(`  dead letters    ${s.deadLetters.expected.filter((e) => e.foundOn).length}/${s.deadLetters.expected.length} expected found, ${s.deadLetters.unexpected.length} unexpected`);
  for (const e of s.deadLetters.expected) lines.push(`    expected ${e.kind} ${e.key} on ${e.expectedTopic}: ${e.foundOn ? `found on ${e.foundOn}` : 'NOT FOUND'}`);
  for (const u of s.deadLetters.unexpected.slice(0, LIST_LIMIT)) lines.push(`    UNEXPECTED ${u.topic}[${u.partition}]@${u.offset}: ${u.reason.slice(0, 200)}`);
  if (s.deadLetters.unexpected.length > LIST_LIMIT) lines.push(`    ... ${s.deadLetters.unexpected.length - LIST_LIMIT} more in the JSON summary`);
  lines.push('  counts');
  for (const c of s.counts) lines.push(`    ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(34)} expected ${String(c.expected).padStart(7)}, found ${String(c.actual).padStart(7)}  (${c.meaning})`);
  lines.push(s.passed ? 'PASSED: both sides agree, nothing lost, nothing written twice.' : 'FAILED: see the differences, duplicates and counts above.');
  return lines.join('\n');
}
