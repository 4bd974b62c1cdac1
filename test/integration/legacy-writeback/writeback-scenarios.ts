import type { Dialect } from '@sync/config';

/**
 * What differs per dialect in the write-back scenarios: the legacy tables each scenario starts
 * from, and the lock-wait probe. Pure data, so the unit tests parse the T-SQL and the trigger DDL
 * generated for these tables without a SQL Server
 * (test/unit/legacy-writeback/writeback-fixtures-tsql.test.ts). The queries the scenarios run are
 * written once, in SQL both dialects accept, with `$1…` placeholders.
 */

/** Statements per dialect; on SQL Server each element is one batch. */
export type DialectSql = Readonly<Record<Dialect, readonly string[]>>;

export interface WritebackScenario {
  /** The `tables:` entries of the system in the pipeline file (schema left to the dialect's default). */
  readonly tables: string;
  readonly ddl: DialectSql;
}

/** apply.test: a composite key, a generated key (serial / IDENTITY) and a foreign key to it. */
export const APPLY: WritebackScenario = {
  tables: `      - name: order_lines
        key: [order_id, line_no]
        capture: { mode: trigger }
      - name: customers
        key: [id]
        capture: { mode: trigger }
        generatedKey: true
      - name: orders
        key: [id]
        capture: { mode: trigger }
`,
  ddl: {
    postgres: [
      'CREATE TABLE order_lines (order_id int NOT NULL, line_no int NOT NULL, sku text NOT NULL, qty int NOT NULL, note text, PRIMARY KEY (order_id, line_no))',
      'CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text)',
      'CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id), total numeric(10,2) NOT NULL)',
    ],
    mssql: [
      'CREATE TABLE dbo.order_lines (order_id int NOT NULL, line_no int NOT NULL, sku nvarchar(100) NOT NULL, qty int NOT NULL, note nvarchar(100) NULL, PRIMARY KEY (order_id, line_no))',
      'CREATE TABLE dbo.customers (id int IDENTITY(1,1) NOT NULL PRIMARY KEY, name nvarchar(100) NOT NULL, email nvarchar(200) NULL)',
      'CREATE TABLE dbo.orders (id int NOT NULL PRIMARY KEY, customer_id int NOT NULL REFERENCES dbo.customers (id), total numeric(10,2) NOT NULL)',
    ],
  },
};

/** conflicts.test: one table per conflict policy. */
export const CONFLICT_POLICIES = { acc_lw: 'legacy-wins', acc_nw: 'new-wins', acc_lww: 'last-writer-wins' } as const;
const conflictTables = Object.keys(CONFLICT_POLICIES);

export const CONFLICTS: WritebackScenario = {
  tables: Object.entries(CONFLICT_POLICIES)
    .map(([t, p]) => `      - name: ${t}\n        key: [id]\n        capture: { mode: trigger }\n        conflictPolicy: ${p}\n`)
    .join(''),
  ddl: {
    postgres: conflictTables.map((t) => `CREATE TABLE ${t} (id int PRIMARY KEY, balance int NOT NULL, owner text)`),
    mssql: conflictTables.map((t) => `CREATE TABLE dbo.${t} (id int NOT NULL PRIMARY KEY, balance int NOT NULL, owner nvarchar(100) NULL)`),
  },
};

/** echo.test */
export const ECHO: WritebackScenario = {
  tables: '      - name: items\n        key: [id]\n        capture: { mode: trigger }\n',
  ddl: {
    postgres: ['CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)'],
    mssql: ['CREATE TABLE dbo.items (id int NOT NULL PRIMARY KEY, name nvarchar(200) NOT NULL)'],
  },
};

/** crash-outage.test: generated bigint keys, and plain upserts. */
export const CRASH_OUTAGE: WritebackScenario = {
  tables: `      - name: events
        key: [id]
        capture: { mode: trigger }
        generatedKey: true
      - name: kv
        key: [k]
        capture: { mode: trigger }
`,
  ddl: {
    postgres: ['CREATE TABLE events (id bigserial PRIMARY KEY, gid text NOT NULL, payload text)', 'CREATE TABLE kv (k int PRIMARY KEY, v int NOT NULL)'],
    mssql: [
      'CREATE TABLE dbo.events (id bigint IDENTITY(1,1) NOT NULL PRIMARY KEY, gid nvarchar(100) NOT NULL, payload nvarchar(100) NULL)',
      'CREATE TABLE dbo.kv (k int NOT NULL PRIMARY KEY, v int NOT NULL)',
    ],
  },
};

/** parked.test: a foreign key whose target the test creates later (keys chosen by the test). */
export const PARKED: WritebackScenario = {
  tables: `      - name: customers
        key: [id]
        capture: { mode: trigger }
      - name: orders
        key: [id]
        capture: { mode: trigger }
`,
  ddl: {
    postgres: [
      'CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)',
      'CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id), total numeric(10,2) NOT NULL)',
    ],
    mssql: [
      'CREATE TABLE dbo.customers (id int NOT NULL PRIMARY KEY, name nvarchar(100) NOT NULL)',
      'CREATE TABLE dbo.orders (id int NOT NULL PRIMARY KEY, customer_id int NOT NULL REFERENCES dbo.customers (id), total numeric(10,2) NOT NULL)',
    ],
  },
};

export const SCENARIOS = { APPLY, CONFLICTS, ECHO, CRASH_OUTAGE, PARKED } as const;

/**
 * A row when a write-back session (application name `legacy-sync`, set by both pool configs) of
 * this database waits for a row lock. SQL Server: the login needs VIEW SERVER STATE to see other
 * sessions' requests (sa has it).
 */
export const WRITEBACK_LOCK_WAIT: Readonly<Record<Dialect, string>> = {
  postgres:
    "SELECT 1 AS waiting FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'legacy-sync' AND wait_event_type = 'Lock'",
  mssql:
    "SELECT 1 AS waiting FROM sys.dm_exec_requests AS r INNER JOIN sys.dm_exec_sessions AS s ON s.session_id = r.session_id WHERE s.program_name = N'legacy-sync' AND r.database_id = DB_ID() AND r.wait_type LIKE N'LCK[_]%'",
};
