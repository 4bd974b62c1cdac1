import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadPipelineFile, type PipelineConfig, type SystemConfig } from '@sync/config';
import { UsageError } from '../command';

/** Parses options strictly: an unknown option or a missing value is a UsageError naming it. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function loadPipeline(file: string | undefined, fallback: string): PipelineConfig {
  return loadPipelineFile(file ?? fallback);
}

/** The systems a command works on: all, or the one --system names. */
export function selectSystems(pipeline: PipelineConfig, name: string | undefined): SystemConfig[] {
  if (name === undefined) return [...pipeline.systems.values()];
  const system = pipeline.systems.get(name);
  if (!system) throw new UsageError(`--system ${name}: no such system in the pipeline file (known: ${[...pipeline.systems.keys()].join(', ')})`);
  return [system];
}

/** At most `max` positional arguments: an extra one is a UsageError naming it. */
export function maxPositionals(positionals: readonly string[], max: number, what: string): void {
  if (positionals.length > max) throw new UsageError(`unexpected argument "${positionals[max]}" (${what})`);
}
