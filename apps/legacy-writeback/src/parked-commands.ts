import type { ParkedCommand } from '@sync/legacy-db';

/**
 * Parked commands in release order: one group per global id (row), each group in the order its
 * commands were parked, groups ordered by their oldest command. A group is released head first and
 * stops at the first command that is still blocked, so a row never sees a later change before an
 * earlier one.
 */
export function releaseGroups(parked: readonly ParkedCommand[]): ParkedCommand[][] {
  const sorted = [...parked].sort((a, b) => a.parkedAt.getTime() - b.parkedAt.getTime() || (a.commandId < b.commandId ? -1 : a.commandId > b.commandId ? 1 : 0));
  const groups = new Map<string, ParkedCommand[]>();
  for (const p of sorted) {
    const group = groups.get(p.command.globalId);
    if (group) group.push(p);
    else groups.set(p.command.globalId, [p]);
  }
  return [...groups.values()];
}

/** Whether a command parked at `parkedAt` has waited longer than the limit. */
export function parkExpired(parkedAt: Date, now: Date, parkTimeoutMs: number): boolean {
  return now.getTime() - parkedAt.getTime() > parkTimeoutMs;
}

/**
 * Which rows (global ids) have parked commands, per resolved.* topic, and a lock per topic so the
 * consumer and the release round never interleave on one table: a new command for a row that has
 * parked commands is parked behind them instead of overtaking them.
 */
export class ParkedRows {
  private readonly rows = new Map<string, Set<string>>();
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier call for the same topic has finished. */
  async withLock<T>(topic: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(topic) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.tails.set(topic, tail);
    try {
      return await run;
    } finally {
      if (this.tails.get(topic) === tail) this.tails.delete(topic);
    }
  }

  /** The rows of a topic with parked commands, read through `load` the first time. */
  async of(topic: string, load: () => Promise<readonly ParkedCommand[]>): Promise<Set<string>> {
    let rows = this.rows.get(topic);
    if (!rows) {
      rows = new Set((await load()).map((p) => p.command.globalId));
      this.rows.set(topic, rows);
    }
    return rows;
  }

  replace(topic: string, globalIds: Iterable<string>): void {
    this.rows.set(topic, new Set(globalIds));
  }
}
