import type { Row } from '@sync/contracts';

/** Where one table's capture stands; stored per entity in the compacted sync.offsets topic. */
export type CaptureState =
  | {
      readonly phase: 'snapshot';
      /** Identifies this snapshot run in event ids (a re-snapshot gets a new one). */
      readonly snapshotId: string;
      /** Key of the last row published; null before the first chunk. */
      readonly afterKey: Row | null;
      /** Stream position taken before the snapshot began: streaming resumes there. */
      readonly streamFrom: string;
    }
  | { readonly phase: 'streaming'; readonly position: string };

/** Entity name: `<system>.<schema>.<table>`. */
export function entityName(t: { system: string; schema: string; table?: string; name?: string }): string {
  return `${t.system}.${t.schema}.${t.table ?? t.name ?? ''}`;
}

export function encodeState(state: CaptureState): string {
  return JSON.stringify(state);
}

/** Parses a stored state; undefined when the record is not one (it is then ignored and reported). */
export function decodeState(text: string): CaptureState | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Record<string, unknown>;
  if (s['phase'] === 'streaming' && typeof s['position'] === 'string') return { phase: 'streaming', position: s['position'] };
  if (
    s['phase'] === 'snapshot' &&
    typeof s['snapshotId'] === 'string' &&
    typeof s['streamFrom'] === 'string' &&
    (s['afterKey'] === null || (typeof s['afterKey'] === 'object' && !Array.isArray(s['afterKey'])))
  ) {
    return { phase: 'snapshot', snapshotId: s['snapshotId'], afterKey: s['afterKey'] as Row | null, streamFrom: s['streamFrom'] };
  }
  return undefined;
}
