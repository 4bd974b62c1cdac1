// Waiting in scripts (benchmarks, the fault run, the demo): every wait is bounded.

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` every `everyMs` until it holds; throws after `timeoutMs` (loops here are bounded). */
export async function waitUntil(what: string, done: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`${what} not reached within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(everyMs);
  }
}
