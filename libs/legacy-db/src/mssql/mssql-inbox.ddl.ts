import { INBOX_TABLE, PARKED_TABLE } from '../core/inbox-names';
import { nstr, qi } from './mssql-statement';

/**
 * The write-back inbox and parked table on SQL Server (see postgres/postgres-inbox.ddl.ts). The
 * CDC capture joins the inbox's `origin` by commit LSN (docs/sqlserver.md).
 */
export function mssqlInboxDdl(syncSchema: string): string[] {
  const inbox = `${qi(syncSchema)}.${qi(INBOX_TABLE)}`;
  const parked = `${qi(syncSchema)}.${qi(PARKED_TABLE)}`;
  return [
    `IF SCHEMA_ID(${nstr(syncSchema)}) IS NULL EXEC(${nstr(`CREATE SCHEMA ${qi(syncSchema)} AUTHORIZATION [dbo]`)})`,
    `IF OBJECT_ID(${nstr(inbox)}, N'U') IS NULL
CREATE TABLE ${inbox} (
  [command_id] nvarchar(400) NOT NULL PRIMARY KEY,
  [system] nvarchar(128) NOT NULL,
  [schema_name] nvarchar(128) NOT NULL,
  [table_name] nvarchar(128) NOT NULL,
  [global_id] nvarchar(400) NOT NULL,
  [origin] nvarchar(128) NOT NULL,
  [outcome] varchar(20) NOT NULL CHECK ([outcome] IN ('applied', 'skipped-conflict')),
  [result] nvarchar(max) NULL,
  [applied_at] datetime2 NOT NULL DEFAULT SYSUTCDATETIME()
)`,
    `IF OBJECT_ID(${nstr(parked)}, N'U') IS NULL
CREATE TABLE ${parked} (
  [command_id] nvarchar(400) NOT NULL PRIMARY KEY,
  [system] nvarchar(128) NOT NULL,
  [schema_name] nvarchar(128) NOT NULL,
  [table_name] nvarchar(128) NOT NULL,
  [global_id] nvarchar(400) NOT NULL,
  [command] nvarchar(max) NOT NULL,
  [reason] nvarchar(2000) NOT NULL,
  [parked_at] datetime2 NOT NULL DEFAULT SYSUTCDATETIME()
)`,
  ];
}
