import type { PipelineConfig } from '@sync/config';
import type { InitialStateOf } from './control-state';
import type { SyncState } from './control-record';

/**
 * The pipeline's `initialState` per entity (`<system>.<schema>.<table>`): what an entity's switches
 * are while sync.control holds no record for it. A record written by `sync-ctl enable`/`disable`
 * always wins, so changing initialState later does not flip an entity someone already switched.
 */
export function initialStates(pipeline: PipelineConfig): InitialStateOf {
  const states = new Map<string, SyncState>();
  for (const system of pipeline.systems.values()) for (const t of system.tables) states.set(`${system.name}.${t.schema}.${t.name}`, t.initialState);
  return (entity) => states.get(entity) ?? 'enabled';
}
