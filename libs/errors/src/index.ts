export { SyncError, EnvironmentError, DataError, SchemaError, errorKind, errorMessage } from './error-kind';
export type { ErrorKind, ClassifiedKind } from './error-kind';
export { hostileTextProblem } from './hostile-text';
export { sqlStateKind, sqlStateOf } from './sqlstate';
