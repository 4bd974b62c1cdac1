/** What a per-key stream of sequence numbers (outputs in partition order) shows after a rebalance. */
export interface StreamFindings {
  /** Sequence numbers never seen. */
  readonly missing: number;
  /** Outputs seen again in a replay (a new owner re-reading from the last commit: at-least-once). */
  readonly replayed: number;
  /**
   * Outputs out of order that no replay explains: a jump forward (a stale block was written in
   * between) or a stream that does not end on the latest sequence number. A consumer applying the
   * stream in order would have shown stale state.
   */
  readonly stale: readonly string[];
}

/**
 * Checks one key's outputs, in the order a consumer reads them, against 0..last. Legitimate at-least-
 * once delivery only ever goes on by one (s → s+1) or starts a replay from an earlier commit (a jump
 * back that then runs on by one); a replica writing a batch it no longer owns shows as a jump back
 * followed by a jump forward, or as a stream ending below `last`.
 */
export function checkKeyStream(key: string, seqs: readonly number[], last: number): StreamFindings {
  const stale: string[] = [];
  const seen = new Set<number>();
  let replayed = 0;
  for (const [i, seq] of seqs.entries()) {
    if (seen.has(seq)) replayed++;
    seen.add(seq);
    const prev = i === 0 ? -1 : seqs[i - 1]!;
    if (seq > prev + 1) stale.push(`${key}: ${prev} followed by ${seq} at output ${i}`);
  }
  const end = seqs[seqs.length - 1];
  if (end !== undefined && end !== last) stale.push(`${key}: ends on ${end}, latest is ${last}`);
  let missing = 0;
  for (let s = 0; s <= last; s++) if (!seen.has(s)) missing++;
  return { missing, replayed, stale };
}
