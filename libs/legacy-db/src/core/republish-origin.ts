export const REPUBLISH_PREFIX = 'republish:';

/**
 * Origin marker of a write-back that won a conflict (new-wins, or last-writer-wins for the
 * command): the new side had been sent the older legacy edit it overrode, so legacy-import
 * publishes this write like a legacy change and the new side ends on the value legacy holds.
 * Every other write-back carries its plain origin and is never published (no echo).
 */
export function republishOrigin(origin: string): string {
  return origin.startsWith(REPUBLISH_PREFIX) ? origin : `${REPUBLISH_PREFIX}${origin}`;
}

export function isRepublishOrigin(origin: string | null): boolean {
  return origin !== null && origin.startsWith(REPUBLISH_PREFIX);
}
