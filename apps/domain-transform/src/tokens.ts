/** Injection token of the compiled mappings (MappingEngine). */
export const MAPPING_ENGINE = Symbol('MAPPING_ENGINE');
