/**
 * What a failed heartbeat or commit says about this member's hold on its partitions:
 * - `lost`: the coordinator no longer knows this member or this generation (its session expired,
 *   it was paused past the session timeout, the group moved on): its partitions may already be
 *   another member's, so it must neither write effects nor commit for them;
 * - `rebalancing`: a rebalance has begun; the member still owns its partitions until it rejoins,
 *   so it may finish (and commit) the work in hand, but should start nothing new;
 * - `unknown`: anything else (broker unreachable, timeout): membership cannot be confirmed.
 */
export type MembershipSignal = 'lost' | 'rebalancing' | 'unknown';

const LOST = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID']);

/** Reads the kafkajs error `type` (a protocol error name) of a heartbeat or commit failure. */
export function membershipSignal(err: unknown): MembershipSignal {
  const type = typeof err === 'object' && err !== null && 'type' in err ? (err as { type: unknown }).type : undefined;
  if (typeof type === 'string' && LOST.has(type)) return 'lost';
  if (type === 'REBALANCE_IN_PROGRESS') return 'rebalancing';
  return 'unknown';
}

/**
 * Thrown by BatchContext.confirmOwnership() when the batch's partition may no longer be this
 * member's: the runner abandons the batch (no effect written after the check, nothing committed,
 * nothing dead-lettered); the partition's current owner processes it from the last commit.
 */
export class PartitionRevokedError extends Error {
  override readonly name = 'PartitionRevokedError';
  constructor(
    readonly topic: string,
    readonly partition: number,
    reason: string,
  ) {
    super(`${topic}/${partition} is no longer owned by this member: ${reason}`);
  }
}
