import type { AppEnv } from '@sync/config';

/** One `sync-ctl` command. Each lives in commands/<name>.command.ts and is listed in commands/index.ts. */
export interface Command {
  /** Words after `sync-ctl` that select it, e.g. ['schema'] or ['ids', 'lookup']. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Full help text: usage line, options, examples. */
  readonly help: string;
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
}

/** Exit codes shared by every command. */
export const EXIT = {
  ok: 0,
  /** The command ran and found a problem (differences, failures). */
  failed: 1,
  /** Bad arguments, configuration or input file. */
  usage: 2,
  /** A database or Kafka could not be reached. */
  unavailable: 3,
} as const;

/** Thrown for bad arguments or input: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
