/**
 * Hostile and oversize values the run mixes into the workload on purpose. Each must end up as one
 * dead letter; they are counted apart and excluded from the row comparisons. Pure.
 */
export type HostileKind = 'oversize-legacy-row' | 'nul-in-ce-subject' | 'nul-in-ce-source';

export interface HostileValue {
  readonly kind: HostileKind;
  /** What identifies its dead letter: the legacy row id (oversize) or the CloudEvents id. */
  readonly key: string;
  /** The dead-letter topic it is expected on; `undefined`: any dlq.* topic (the app that rejects it). */
  readonly expectedTopic: string | undefined;
  /** The users row it made, if any (excluded from the comparisons): legacy id. */
  readonly legacyId?: number;
}

/** A dead letter as the checks see it. */
export interface DeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Key, value (truncated) and headers as text. */
  readonly text: string;
  readonly reason: string;
}

export interface DeadLetterReport {
  /** Per hostile value: the dead letter found for it, if any. */
  readonly expected: ReadonlyArray<{ readonly value: HostileValue; readonly found: DeadLetter | undefined }>;
  /** Every dead letter no hostile value accounts for: each one fails the run. */
  readonly unexpected: readonly DeadLetter[];
}

function mentions(text: string, key: string): boolean {
  // A whole token: legacy id 12 must not match 120 or an offset 3120.
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^0-9A-Za-z_-])${escaped}($|[^0-9A-Za-z_-])`).test(text);
}

/** Matches each hostile value to at most one dead letter (on its expected topic, naming its key); the rest are unexpected. */
export function classifyDeadLetters(hostile: readonly HostileValue[], letters: readonly DeadLetter[]): DeadLetterReport {
  const used = new Set<DeadLetter>();
  const expected = hostile.map((value) => {
    const found = letters.find((l) => !used.has(l) && (value.expectedTopic === undefined || l.topic === value.expectedTopic) && mentions(l.text, value.key));
    if (found) used.add(found);
    return { value, found };
  });
  return { expected, unexpected: letters.filter((l) => !used.has(l)) };
}
