export type Dialect = 'postgres' | 'mssql';

/** A secret value, revealed only where it is handed to the driver. */
export interface SecretValue {
  reveal(): string;
}

export interface DbTlsOptions {
    readonly ca?: string;
  readonly cert?: string;
  readonly key?: SecretValue;
  readonly rejectUnauthorized: boolean;
}

/** Resolved connection settings for one legacy system (secrets already read). */
export interface LegacyDbOptions {
  readonly system: string;
  readonly dialect: Dialect;
  readonly url?: SecretValue;
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  readonly password?: SecretValue;
  readonly tls?: DbTlsOptions;
  readonly poolSize: number;
  readonly connectTimeoutMs?: number;
}

/** A pooled connection to one legacy database. */
export interface LegacyDb {
  readonly system: string;
  readonly dialect: Dialect;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
