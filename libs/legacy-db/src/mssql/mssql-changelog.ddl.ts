import type { SystemConfig, TableConfig } from '@sync/config';
import { changelogNames } from '../core/changelog-names';
import { nstr, qi } from './mssql-statement';

/** Column the suite adds to an existing changelog table for the writer's origin (echo suppression). */
export const MSSQL_ORIGIN_COLUMN = 'sync_origin';

/** Session key the write-back sets with sp_set_session_context; triggers and defaults read it. */
const ORIGIN_EXPR = "CAST(SESSION_CONTEXT(N'sync_origin') AS nvarchar(128))";

/** rowversion's system type id in sys.types (also called timestamp). */
const ROWVERSION_TYPE_ID = 189;

/**
 * image, text, ntext (not readable from inserted/deleted in an AFTER trigger) and CLR types such
 * as geometry, geography, hierarchyid (FOR JSON rejects them). A trigger over such a column would
 * fail every write of the legacy application, so the DDL refuses the table instead.
 */
const UNCAPTURABLE_TYPE_IDS = '34, 35, 99, 240';

/** Names of the objects the SQL Server trigger mode generates for one table. */
export interface MssqlChangelogNames {
  /** Quoted, qualified changelog table in the sync schema. */
  readonly changelog: string;
  /** Quoted, qualified trigger (SQL Server puts a trigger in its table's schema). */
  readonly trigger: string;
  readonly rvIndex: string;
}

export function mssqlChangelogNames(syncSchema: string, table: TableConfig): MssqlChangelogNames {
  const names = changelogNames(table);
  return {
    changelog: `${qi(syncSchema)}.${qi(names.table)}`,
    // Trigger names are unique per schema, not per table as in PostgreSQL.
    trigger: `${qi(table.schema)}.${qi(`sync_${names.captureFunction}`)}`,
    rvIndex: `${names.table}_rv`,
  };
}

/**
 * Reviewable, idempotent T-SQL for the SQL Server capture modes, one batch per element (no GO):
 * the sync schema; per trigger-mode table a changelog (full row images as JSON, the writer's
 * origin from SESSION_CONTEXT, a rowversion as the commit-safe watermark) and its trigger; per
 * existing-changelog table the rowversion watermark column and the origin column.
 */
export function mssqlChangelogDdl(system: SystemConfig): string[] {
  const batches = [
    // CREATE SCHEMA must start a batch, hence EXEC. Owned by dbo so the triggers (in dbo-owned
    // schemas) reach the changelog by ownership chaining, without grants to the legacy users.
    `IF SCHEMA_ID(${nstr(system.syncSchema)}) IS NULL EXEC(${nstr(`CREATE SCHEMA ${qi(system.syncSchema)} AUTHORIZATION [dbo]`)})`,
  ];
  for (const table of system.tables) {
    switch (table.capture.mode) {
      case 'trigger':
        batches.push(...triggerTableDdl(system.syncSchema, table));
        break;
      case 'changelog':
        batches.push(...existingChangelogDdl(table, table.capture.changelogSchema, table.capture.changelogTable, table.capture.watermarkColumn));
        break;
      case 'cdc':
      case 'logical': // refused for mssql systems by the pipeline rules
        break;
      default: {
        const never: never = table.capture;
        throw new Error(`unknown capture mode ${JSON.stringify(never)}`);
      }
    }
  }
  return batches;
}

function triggerTableDdl(syncSchema: string, table: TableConfig): string[] {
  const n = mssqlChangelogNames(syncSchema, table);
  const base = `${qi(table.schema)}.${qi(table.name)}`;
  const keyJoin = table.key.map((k) => `i.${qi(k)} = d.${qi(k)}`).join(' AND ');
  // Key columns are the primary key, so NOT NULL: a NULL on one side means no partner row.
  const firstKey = qi(table.key[0]!);
  const order = table.key.map((k) => `COALESCE(i.${qi(k)}, d.${qi(k)})`).join(', ');
  return [
    `IF EXISTS (SELECT 1 FROM sys.columns WHERE object_id = OBJECT_ID(${nstr(base)}) AND system_type_id IN (${UNCAPTURABLE_TYPE_IDS}))
  THROW 50002, ${nstr(
    `${table.system}.${table.schema}.${table.name} has image, text, ntext or CLR-type (geometry, geography, hierarchyid) columns, which the capture trigger cannot write as JSON: capture it with CDC or an existing changelog`,
  )}, 1;`,
    `IF OBJECT_ID(${nstr(n.changelog)}, N'U') IS NULL
CREATE TABLE ${n.changelog} (
  [id] bigint IDENTITY(1,1) NOT NULL PRIMARY KEY,
  [rv] rowversion NOT NULL,
  [op] char(1) NOT NULL CHECK ([op] IN ('c', 'u', 'd')),
  [before] nvarchar(max) NULL,
  [after] nvarchar(max) NULL,
  [origin] nvarchar(128) NULL,
  [tx] bigint NULL,
  [changed_at] datetime2 NOT NULL DEFAULT SYSUTCDATETIME()
)`,
    `IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(${nstr(n.changelog)}) AND name = ${nstr(n.rvIndex)})
CREATE INDEX ${qi(n.rvIndex)} ON ${n.changelog} ([rv])`,
    // One set-based insert per statement: inserted and deleted are matched on the key, so a
    // multi-row UPDATE gives one 'u' per row, a MERGE its mix of c/u/d, and an UPDATE that
    // changes a key a 'd' for the old key and a 'c' for the new one. FOR JSON writes binary
    // columns as base64, decimals with their exact digits and datetimeoffset with its offset.
    // SET NOCOUNT keeps the trigger's insert out of the row counts the legacy application sees.
    `CREATE OR ALTER TRIGGER ${n.trigger} ON ${base} AFTER INSERT, UPDATE, DELETE AS
BEGIN
  SET NOCOUNT ON;
  IF NOT EXISTS (SELECT 1 FROM inserted) AND NOT EXISTS (SELECT 1 FROM deleted) RETURN;
  INSERT INTO ${n.changelog} ([op], [before], [after], [origin], [tx])
  SELECT
    CASE WHEN d.${firstKey} IS NULL THEN 'c' WHEN i.${firstKey} IS NULL THEN 'd' ELSE 'u' END,
    CASE WHEN d.${firstKey} IS NOT NULL THEN (SELECT d.* FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES) END,
    CASE WHEN i.${firstKey} IS NOT NULL THEN (SELECT i.* FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES) END,
    ${ORIGIN_EXPR},
    CURRENT_TRANSACTION_ID()
  FROM inserted AS i
  FULL OUTER JOIN deleted AS d ON ${keyJoin}
  ORDER BY ${order};
END`,
  ];
}

function existingChangelogDdl(table: TableConfig, schema: string, name: string, watermark: string): string[] {
  const changelog = `${qi(schema)}.${qi(name)}`;
  const index = `${name}_${watermark}`;
  return [
    // A table holds at most one rowversion column: if the legacy changelog has one already, the
    // configuration should name it instead of adding another.
    `IF COL_LENGTH(${nstr(changelog)}, ${nstr(watermark)}) IS NULL
BEGIN
  IF EXISTS (SELECT 1 FROM sys.columns WHERE object_id = OBJECT_ID(${nstr(changelog)}) AND system_type_id = ${ROWVERSION_TYPE_ID})
    THROW 50001, ${nstr(`${table.system}.${schema}.${name} already has a rowversion column: set capture.watermarkColumn to it`)}, 1;
  ALTER TABLE ${changelog} ADD ${qi(watermark)} rowversion NOT NULL;
END`,
    `IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(${nstr(changelog)}) AND name = ${nstr(index)})
CREATE INDEX ${qi(index)} ON ${changelog} (${qi(watermark)})`,
    // Rows the legacy application writes in a session of the suite's write-back get its origin.
    `IF COL_LENGTH(${nstr(changelog)}, ${nstr(MSSQL_ORIGIN_COLUMN)}) IS NULL
ALTER TABLE ${changelog} ADD ${qi(MSSQL_ORIGIN_COLUMN)} nvarchar(128) NULL DEFAULT ${ORIGIN_EXPR}`,
  ];
}

/** T-SQL that removes what mssqlChangelogDdl created for trigger-mode tables (not the schema, not added columns). */
export function mssqlChangelogDropDdl(system: SystemConfig): string[] {
  return system.tables
    .filter((t) => t.capture.mode === 'trigger')
    .flatMap((table) => {
      const n = mssqlChangelogNames(system.syncSchema, table);
      return [`DROP TRIGGER IF EXISTS ${n.trigger}`, `DROP TABLE IF EXISTS ${n.changelog}`];
    });
}
