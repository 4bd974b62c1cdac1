/** A message to transform, in the shape the Kafka runner hands over (or a sample file gives). */
export interface TransformInput {
  readonly topic: string;
  readonly key: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Kafka timestamp (ms since epoch, as a string); fallback time for events without ce_time. */
  readonly timestamp?: string;
}

/** A message the transform wants produced; `rule` names the rule that made it (metrics, logs). */
export interface TransformOutput {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly rule: string;
}

export type SkipReason =
  /** The change was written by the suite on behalf of someone else: never turned into a fresh event. */
  | 'echo'
  /** None of the fields the rule maps changed. */
  | 'unchanged'
  /** The rule's `when` condition was false. */
  | 'condition'
  /** No rule applies to this message (type declared but not mapped back, op not handled). */
  | 'no-rule';

export interface TransformSkip {
  readonly rule: string;
  readonly reason: SkipReason;
}

export interface TransformResult {
  readonly outputs: readonly TransformOutput[];
  readonly skipped: readonly TransformSkip[];
}
