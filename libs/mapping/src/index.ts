export { loadMappings } from './mapping.config';
export type { LoadedMappings } from './mapping.config';
export { MappingEngine, dataSchemaUri } from './transform.engine';
export type { TransformInput, TransformOutput, TransformResult, TransformSkip, SkipReason } from './transform.types';
export { MapperRegistry } from './mapper.registry';
export type { CustomMapper, ForwardMapperInput, ReverseMapperInput, DomainEventDraft, WritebackDraft } from './mapper.registry';

export { encodeDomainEvent, decodeDomainEvent, LEGACY_VERSION_EXTENSION, BASED_ON_EXTENSION } from './cloud-event.codec';
export type { DomainEventAttributes, DecodedDomainEvent, LegacyVersionRef } from './cloud-event.codec';

export type { Expression, Bindings } from './expression';

export type { MappingSet, FieldType, TableTarget } from './mapping.types';
export { loadCheckedPipeline, crossCheck } from './pipeline.check';
export type { CheckedPipeline, PipelineProblem } from './pipeline.check';
export { mappingsJsonSchema } from './mapping.json-schema';
