import { setFlagsFromString } from 'node:v8';
import type { AppEnv } from '@sync/config';

/**
 * The V8 flags that carry the memory settings; none when V8's own behaviour is asked for.
 * `--heap-growing-percent` is read at every full collection, so it takes effect when set at run
 * time, unlike the heap size limits (those only from the command line or NODE_OPTIONS).
 */
export function heapFlags(memory: AppEnv['memory']): string[] {
  return memory.heapGrowingPercent > 0 ? [`--heap-growing-percent=${memory.heapGrowingPercent}`] : [];
}

/** Applies heapFlags to this process's V8; returns what it set. */
export function applyHeapFlags(memory: AppEnv['memory'], set: (flag: string) => void = setFlagsFromString): string[] {
  const flags = heapFlags(memory);
  for (const flag of flags) set(flag);
  return flags;
}
