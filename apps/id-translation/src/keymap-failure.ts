import { DataError, EnvironmentError, errorKind, errorMessage, SchemaError, sqlStateKind, sqlStateOf, type SyncError } from '@sync/errors';

/**
 * What a failed key-map statement means for the messages behind it. An error already classified
 * (a ContractError raised while resolving) keeps its kind; a PostgreSQL error is classified by its
 * SQLSTATE (class 22/23: the message's values, dead-letter it); anything else (no SQLSTATE: a lost
 * connection, a closed pool) is the environment: wait and retry.
 */
export function keymapFailure(what: string, err: unknown): unknown {
  const kind = errorKind(err);
  if (kind !== 'unknown') return err;
  const code = sqlStateOf(err);
  const message = `${what}: ${errorMessage(err)}${code ? ` (SQLSTATE ${code})` : ''}`;
  const classified = sqlStateKind(code);
  const wrap = (E: new (m: string, o?: { cause?: unknown }) => SyncError): SyncError => new E(message, { cause: err });
  switch (classified) {
    case 'data':
      return wrap(DataError);
    case 'schema':
      return wrap(SchemaError);
    case 'environment':
    case 'unknown':
      return wrap(EnvironmentError);
    default: {
      const never: never = classified;
      return never;
    }
  }
}
