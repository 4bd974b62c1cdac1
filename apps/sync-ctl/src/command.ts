import type { AppEnv } from '@sync/config';

/** How an option is parsed (node:util parseArgs) and completed by the shell. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
}

/** What the shell completes besides the options (see completion.ts). */
export interface CompletionHints {
  /** Fixed words for the first positional argument (e.g. `ids lookup|migrate`). */
  readonly words?: readonly string[];
  /** Fixed values of string options, e.g. { direction: ['legacy-to-new', ...] }. */
  readonly values?: Readonly<Record<string, readonly string[]>>;
  /** A file name is expected for these options. */
  readonly files?: readonly string[];
}

/** One `sync-ctl` command. Each lives in commands/<name>.command.ts and is listed in commands/index.ts. */
export interface Command {
  /** Words after `sync-ctl` that select it, e.g. ['schema'] or ['ids', 'lookup']. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Full help text: usage line, options, examples (the dispatcher appends the common options and exit codes). */
  readonly help: string;
  /** Every option the command accepts: the same object its run() parses with, so completion cannot drift. */
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly complete?: CompletionHints;
  /** Returns the process exit code (see EXIT). */
  run(args: readonly string[], io: CommandIo): Promise<number>;
}

export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  /** Pipeline file from PIPELINE_FILE (default ./pipeline.yaml); commands take --pipeline to override. */
  readonly pipelineFile: string;
  /** The validated environment (KAFKA_BROKERS, KEYMAP_DATABASE_URL ...). */
  readonly env: AppEnv;
  /** How long a dependency (Kafka, a database) may take to answer before the command exits 3. */
  readonly connectTimeoutMs: number;
}

/** Exit codes shared by every command (docs/operations.md, "sync-ctl"). */
export const EXIT = {
  ok: 0,
  /** The command ran and found a problem (differences, dead letters, refused replays, not found). */
  failed: 1,
  /** Bad arguments, configuration or input file: nothing was connected to. */
  usage: 2,
  /** Kafka or a database could not be reached within the connect timeout. */
  unavailable: 3,
  /** Anything unexpected (a bug, or a dependency that failed after answering). */
  internal: 4,
} as const;

/** Thrown for bad arguments or input: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The dependencies a command can need, as named in the JSON error. */
export type DependencyKind = 'kafka' | 'legacy-db' | 'keymap-db' | 'new-side-db';

/** A dependency did not answer within the connect timeout, or refused: exit code 3, one line. */
export class DependencyUnreachableError extends Error {
  override readonly name = 'DependencyUnreachableError';
  constructor(
    readonly dependency: DependencyKind,
    /** For people: "Kafka", "legacy database crm", ... */
    readonly label: string,
    /** host:port list or host:port/database, never credentials. */
    readonly address: string,
    readonly reason: string,
  ) {
    super(`${label} unreachable at ${address}: ${reason}`);
  }
}
