import { MapperRegistry } from '@sync/mapping';
import { SplitNameMapper } from './split-name.mapper';

/** The custom mapper classes the pipeline file may name (`mapper: <name>`). Add new ones here. */
export function appMappers(): MapperRegistry {
  return new MapperRegistry().register('SplitNameMapper', new SplitNameMapper());
}
