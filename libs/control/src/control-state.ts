import type { ControlMessage, ControlRecord, Direction, ResnapshotRequest, SyncState } from './control-record';

export type ControlChange =
  | { readonly kind: 'state'; readonly record: ControlRecord; readonly previous: SyncState }
  | { readonly kind: 'resnapshot'; readonly request: ResnapshotRequest };

/** An entity's state while sync.control has no record for it (the pipeline's `initialState`). */
export type InitialStateOf = (entity: string) => SyncState;

/** The switches as last written; an entity with no record is in its initial state (default enabled). */
export class ControlState {
  private readonly records = new Map<string, ControlRecord>();
  private readonly resnapshots = new Map<string, ResnapshotRequest>();

  constructor(private readonly initial: InitialStateOf = () => 'enabled') {}

  stateOf(entity: string, direction: Direction): SyncState {
    return this.records.get(`${entity}|${direction}`)?.state ?? this.initial(entity);
  }

  recordOf(entity: string, direction: Direction): ControlRecord | undefined {
    return this.records.get(`${entity}|${direction}`);
  }

  all(): ControlRecord[] {
    return [...this.records.values()];
  }

  /** Applies a message; returns what changed (nothing for a repeat of what is already known). */
  apply(message: ControlMessage): ControlChange | undefined {
    if ('action' in message) {
      const seen = this.resnapshots.get(message.entity);
      if (seen && Date.parse(seen.at) >= Date.parse(message.at)) return undefined;
      this.resnapshots.set(message.entity, message);
      return { kind: 'resnapshot', request: message };
    }
    const key = `${message.entity}|${message.direction}`;
    const previous = this.records.get(key)?.state ?? this.initial(message.entity);
    const known = this.records.get(key);
    if (known && known.at === message.at && known.state === message.state) return undefined;
    this.records.set(key, message);
    return { kind: 'state', record: message, previous };
  }
}
