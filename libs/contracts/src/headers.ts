/** Header names every message carries (DESIGN.md "Contracts"). */
export const Headers = {
  eventId: 'event-id',
  origin: 'origin',
  causationId: 'causation-id',
} as const;

export type HeaderMap = Readonly<Record<string, string>>;

/** Origin value for changes made by a legacy system (as opposed to a new service or the suite). */
export function legacyOrigin(system: string): string {
  return `legacy:${system}`;
}
