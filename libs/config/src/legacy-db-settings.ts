import { deepFreeze } from './deep-freeze';
import type { Dialect } from './identifier';
import { mssqlUrlProblem } from './mssql-url';
import type { SystemConfig } from './pipeline.types';
import type { EnvSource, Secret } from './secret';
import { SecretCollector, type ResolvedTls } from './secret-collector';

/** Connection settings of one legacy system with every secret reference read. */
export interface LegacyDbSettings {
  readonly system: string;
  readonly dialect: Dialect;
  /** Either url, or host, port and database. */
  readonly url?: Secret;
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  readonly password?: Secret;
  /** Present when TLS is enabled. */
  readonly tls?: ResolvedTls;
  readonly poolSize: number;
}

/**
 * Reads the secrets a system's connection refers to. Throws ConfigValidationError naming the
 * config path and variable or file of every secret that cannot be read.
 */
export function resolveLegacyDbOptions(system: SystemConfig, secretEnv: EnvSource = process.env): LegacyDbSettings {
  const at = `systems.${system.name}.connection`;
  const connection = system.connection;
  const secrets = new SecretCollector(secretEnv);
  const user =
    typeof connection.user === 'string' ? connection.user : secrets.read(connection.user, `${at}.user`)?.reveal();
  const password = secrets.read(connection.password, `${at}.password`);
  const tls = secrets.readTls(connection.tls, `${at}.tls`);
  const address =
    connection.kind === 'url'
      ? { url: secrets.read(connection.url, `${at}.url`) }
      : { host: connection.host, port: connection.port, database: connection.database };
  if (system.dialect === 'mssql' && address.url !== undefined) {
    const problem = mssqlUrlProblem(address.url.reveal());
    if (problem !== undefined) secrets.report({ path: `${at}.url`, message: problem });
  }
  secrets.throwIfAny(`Cannot resolve the connection of system ${system.name}`);

  return deepFreeze({
    system: system.name,
    dialect: system.dialect,
    ...address,
    ...(user !== undefined && { user }),
    ...(password !== undefined && { password }),
    ...(tls !== undefined && { tls }),
    poolSize: connection.poolSize,
  });
}
