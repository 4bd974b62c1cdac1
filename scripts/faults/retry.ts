import { sleep } from '../lib/wait';

/** A bug in the run itself (the model and the database disagree): never retried. */
export class WorkloadError extends Error {}

/**
 * Runs `attempt` until it succeeds or `deadlineMs` passes. While PostgreSQL is stopped or the
 * broker restarts, a write fails, and a write whose connection broke at commit may or may not have
 * committed: before each retry `probe` looks whether the earlier attempt took effect (each workload
 * change writes values of its own, so this is a lookup), and returns its result if it did.
 */
export async function retryUntil<T>(
  what: string,
  deadlineMs: number,
  attempt: () => Promise<T>,
  probe: () => Promise<T | undefined> = async () => undefined,
  onRetry: (err: unknown) => void = () => undefined,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let delay = 250;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof WorkloadError) throw err;
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${Math.round(deadlineMs / 1000)} s: ${(err as Error).message}`);
      onRetry(err);
    }
    for (;;) {
      await sleep(delay);
      delay = Math.min(delay * 2, 2000);
      try {
        const done = await probe();
        if (done !== undefined) return done;
        break;
      } catch (err) {
        // The probe needs the database too: wait for it as for the write.
        if (Date.now() > deadline) throw new Error(`${what}: still failing after ${Math.round(deadlineMs / 1000)} s: ${(err as Error).message}`);
      }
    }
  }
}
