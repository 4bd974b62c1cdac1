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
      /** Rows read so far of the rows the table held when the snapshot began (absent in states saved by older versions). */
      readonly progress?: SnapshotProgress;
    }
  | {
      readonly phase: 'streaming';
      readonly position: string;
      /** The last snapshot that finished: `sync-ctl resnapshot --wait` waits for one finished after its request. */
      readonly lastSnapshot?: FinishedSnapshot;
    };

/** A snapshot run that completed: its id, when (ISO-8601) and how many rows it read. */
export interface FinishedSnapshot {
  readonly snapshotId: string;
  readonly finishedAt: string;
  readonly rows: number;
}

function isFinished(v: unknown): v is FinishedSnapshot {
  if (typeof v !== 'object' || v === null) return false;
  const f = v as Record<string, unknown>;
  return typeof f['snapshotId'] === 'string' && typeof f['finishedAt'] === 'string' && !Number.isNaN(Date.parse(f['finishedAt'])) && Number.isSafeInteger(f['rows']);
}

/** How far a snapshot is: `done` rows read of `total` (the table's row count when it began), since `startedAt` (ISO-8601). */
export interface SnapshotProgress {
  readonly done: number;
  readonly total: number;
  readonly startedAt: string;
}

function isProgress(v: unknown): v is SnapshotProgress {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return Number.isSafeInteger(p['done']) && Number.isSafeInteger(p['total']) && typeof p['startedAt'] === 'string' && !Number.isNaN(Date.parse(p['startedAt']));
}

/** Rows/s since the snapshot began and seconds to go at that rate (undefined before any rate). */
export function snapshotRate(p: SnapshotProgress, now: number): { rowsPerSecond: number; etaSeconds: number | undefined } {
  const seconds = (now - Date.parse(p.startedAt)) / 1000;
  const rowsPerSecond = seconds > 0 ? p.done / seconds : 0;
  return { rowsPerSecond, etaSeconds: rowsPerSecond > 0 ? Math.max(0, p.total - p.done) / rowsPerSecond : undefined };
}

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
  if (s['phase'] === 'streaming' && typeof s['position'] === 'string') {
    return { phase: 'streaming', position: s['position'], ...(isFinished(s['lastSnapshot']) ? { lastSnapshot: s['lastSnapshot'] } : {}) };
  }
  if (
    s['phase'] === 'snapshot' &&
    typeof s['snapshotId'] === 'string' &&
    typeof s['streamFrom'] === 'string' &&
    (s['afterKey'] === null || (typeof s['afterKey'] === 'object' && !Array.isArray(s['afterKey'])))
  ) {
    return { phase: 'snapshot', snapshotId: s['snapshotId'], afterKey: s['afterKey'] as Row | null, streamFrom: s['streamFrom'], ...(isProgress(s['progress']) ? { progress: s['progress'] } : {}) };
  }
  return undefined;
}
