// The two overlaps of a snapshot (docs/legacy-import.md, "Initial snapshot"): the database reads
// chunk n+1 while chunk n is published, and within a chunk one slice is encoded while the slice
// before it waits for Kafka's acknowledgement. Both are bounded, so memory stays bounded.

/**
 * At most one read ahead: `prefetch` starts the read that follows, `take` hands it over when it is
 * the one asked for (same token) and otherwise reads afresh. A prefetched read is used once; a
 * failed one surfaces in the `take` that consumes it, and the read after that starts anew.
 */
export class ReadAhead<T> {
  private pending: { readonly token: string; readonly read: Promise<T> } | undefined;

  prefetch(token: string, read: () => Promise<T>): void {
    const started = read();
    // Awaited by the take that uses it; a read nobody takes must not be an unhandled rejection.
    started.catch(() => undefined);
    this.pending = { token, read: started };
  }

  take(token: string, read: () => Promise<T>): Promise<T> {
    const pending = this.pending;
    this.pending = undefined;
    return pending?.token === token ? pending.read : read();
  }

  /** Drops a read ahead (the entity paused, a re-snapshot began): it will not be taken. */
  clear(): void {
    this.pending = undefined;
  }

  get holding(): boolean {
    return this.pending !== undefined;
  }
}

/**
 * Runs `publish` on consecutive slices of `items` (at most `sliceSize` each, in order), with up to
 * `inFlight` of them unfinished at once: slice k+1 is prepared and handed over while slice k waits
 * for its acknowledgement. Resolves with the results in slice order once all are done. When one
 * fails, no further slice starts; the error is thrown after every started slice has settled, so
 * nothing is left running behind the caller's back.
 */
export async function publishInSlices<T, R>(items: readonly T[], sliceSize: number, inFlight: number, publish: (slice: readonly T[]) => Promise<R>): Promise<R[]> {
  if (!Number.isSafeInteger(sliceSize) || sliceSize < 1) throw new RangeError(`sliceSize must be a positive integer, not ${sliceSize}`);
  if (!Number.isSafeInteger(inFlight) || inFlight < 1) throw new RangeError(`inFlight must be a positive integer, not ${inFlight}`);
  const running: Array<Promise<R>> = [];
  const results: R[] = [];
  let failure: { error: unknown } | undefined;
  const settle = async (p: Promise<R>): Promise<void> => {
    try {
      results.push(await p);
    } catch (err) {
      failure ??= { error: err };
    }
  };
  for (let start = 0; start < items.length && failure === undefined; start += sliceSize) {
    if (running.length >= inFlight) await settle(running.shift()!);
    if (failure !== undefined) break;
    let started: Promise<R>;
    try {
      started = publish(items.slice(start, start + sliceSize));
    } catch (err) {
      failure = { error: err };
      break;
    }
    started.catch(() => undefined);
    running.push(started);
  }
  while (running.length > 0) await settle(running.shift()!);
  if (failure !== undefined) throw failure.error;
  return results;
}
