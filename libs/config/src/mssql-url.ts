/**
 * The forms a SQL Server `connection.url` may take:
 * - `mssql://user:password@host:port/database` (or `sqlserver://`): user and password
 *   percent-encoded, port optional (1433), database optional (the login's default), nothing after
 *   the database: TLS is set under `connection.tls`, so a query string such as `?encrypt=false`
 *   is refused rather than silently ignored;
 * - an ADO string (`Server=host,1433;Database=…;User Id=…;Password=…`), anything without a scheme.
 */
export const MSSQL_URL_FORM = 'mssql://user:password@host[:port][/database] (user and password percent-encoded) or an ADO string Server=host,port;Database=…';

/** Why `url` is not an accepted SQL Server connection URL, or undefined. Never repeats the URL (it holds the password). */
export function mssqlUrlProblem(url: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1];
  if (scheme === undefined) return /=/.test(url) ? undefined : `is neither a URL nor an ADO connection string; expected ${MSSQL_URL_FORM}`;
  if (!/^(mssql|sqlserver)$/i.test(scheme)) return `has scheme ${scheme}://, expected mssql:// or sqlserver:// (${MSSQL_URL_FORM})`;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `is not a valid URL: percent-encode reserved characters (# / ? @ : %) in the user name and password; expected ${MSSQL_URL_FORM}`;
  }
  if (u.hostname === '') return `names no host; expected ${MSSQL_URL_FORM}`;
  if (u.search !== '' || u.hash !== '') {
    return 'takes no query string or fragment (e.g. ?encrypt=false): set TLS under connection.tls (enabled, ca, rejectUnauthorized)';
  }
  if (/\/.*\//.test(u.pathname)) return `names more than a database after the host; expected ${MSSQL_URL_FORM}`;
  return undefined;
}
