/** Answers undefined when ready, or a sentence saying what is wrong. */
export type ReadinessCheck = () => Promise<string | undefined> | string | undefined;

/** The checks /health/ready runs; each module registers its own (Kafka, its database, consumers ...). */
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private started = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** Marks start-up done (connections made, consumers started): the startup probe turns green. */
  markStarted(): void {
    this.started = true;
  }

  isStarted(): boolean {
    return this.started;
  }

  entries(): ReadonlyArray<[string, ReadinessCheck]> {
    return [...this.checks];
  }
}
