/** Answers undefined when alive, or a sentence saying what is stuck. Must not do I/O. */
export type LivenessCheck = () => string | undefined;

/**
 * What /health/live asks: in-memory facts only (is a loop still turning?), never Kafka or a
 * database, so an outage of either cannot get every pod restarted at once by its liveness probe.
 */
export class LivenessRegistry {
  private readonly checks = new Map<string, LivenessCheck>();

  register(name: string, check: LivenessCheck): void {
    this.checks.set(name, check);
  }

  problems(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, check] of this.checks) {
      const problem = check();
      if (problem !== undefined) out[name] = problem;
    }
    return out;
  }
}
