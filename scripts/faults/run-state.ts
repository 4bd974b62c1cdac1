import type { FaultsConfig } from './faults-config';
import type { ManagedProcess } from './managed.process';
import type { InjectedFault } from './summary';
import type { WorkloadModel } from './workload';

/** What one fault run shares between its steps. */
export interface Run {
  readonly config: FaultsConfig;
  readonly started: number;
  readonly model: WorkloadModel;
  readonly processes: Map<string, ManagedProcess>;
  readonly faults: InjectedFault[];
  legacyDriven: number;
  newDriven: number;
  /** Set once the run is over: exits of the processes are planned from then on. */
  stopping: boolean;
  /** Why the run stopped early: the first failure wins. */
  aborted?: string;
}

export function elapsed(run: Run): number {
  return (Date.now() - run.started) / 1000;
}

/** The run's progress lines, on stdout. */
export const say = (line: string): void => void process.stdout.write(`${line}\n`);
