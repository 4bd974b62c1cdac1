export { SyncError, EnvironmentError, DataError, SchemaError, errorKind, errorMessage, ERROR_KINDS } from './error-kind';
export type { ErrorKind, ClassifiedKind } from './error-kind';
export { hostileTextProblem, assertCleanText } from './hostile-text';
export { sqlStateKind, sqlStateOf } from './sqlstate';
