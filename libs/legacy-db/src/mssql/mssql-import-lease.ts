import { IMPORT_LEASE_TABLE, type ImportLeaseStore, type LeaseTakeover } from '../core/import-lease';
import { nstr, qi, runMssql, type MssqlStatement } from './mssql-statement';
import type { MssqlLegacyDb } from './mssql.legacy-db';

const leaseTable = (syncSchema: string): string => `${qi(syncSchema)}.${qi(IMPORT_LEASE_TABLE)}`;
const DUPLICATE_KEY = new Set([2627, 2601]);

export function mssqlImportLeaseDdl(syncSchema: string): string[] {
  const table = leaseTable(syncSchema);
  return [
    `IF SCHEMA_ID(${nstr(syncSchema)}) IS NULL EXEC(${nstr(`CREATE SCHEMA ${qi(syncSchema)} AUTHORIZATION [dbo]`)})`,
    `IF OBJECT_ID(${nstr(table)}, N'U') IS NULL
CREATE TABLE ${table} (
  [entity] nvarchar(400) NOT NULL PRIMARY KEY,
  [epoch] bigint NOT NULL,
  [owner] nvarchar(400) NOT NULL,
  [state] nvarchar(max) NULL,
  [updated_at] datetime2 NOT NULL DEFAULT SYSUTCDATETIME()
)`,
  ];
}

/** The lease statements (see postgres-import-lease.ts); a takeover is an UPDATE, or an INSERT for a new unit. */
export const mssqlImportLeaseSql = {
  bump: (syncSchema: string, entity: string, owner: string): MssqlStatement => ({
    text: `UPDATE ${leaseTable(syncSchema)} SET [epoch] = [epoch] + 1, [owner] = @owner, [updated_at] = SYSUTCDATETIME() OUTPUT inserted.[epoch], inserted.[state] WHERE [entity] = @entity`,
    params: [
      { name: 'entity', type: 'nvarchar', value: entity },
      { name: 'owner', type: 'nvarchar', value: owner },
    ],
  }),
  insert: (syncSchema: string, entity: string, owner: string): MssqlStatement => ({
    text: `INSERT INTO ${leaseTable(syncSchema)} ([entity], [epoch], [owner]) OUTPUT inserted.[epoch], inserted.[state] VALUES (@entity, 1, @owner)`,
    params: [
      { name: 'entity', type: 'nvarchar', value: entity },
      { name: 'owner', type: 'nvarchar', value: owner },
    ],
  }),
  currentEpoch: (syncSchema: string, entity: string): MssqlStatement => ({
    text: `SELECT [epoch] FROM ${leaseTable(syncSchema)} WHERE [entity] = @entity`,
    params: [{ name: 'entity', type: 'nvarchar', value: entity }],
  }),
  saveState: (syncSchema: string, entity: string, epoch: number, state: string): MssqlStatement => ({
    text: `UPDATE ${leaseTable(syncSchema)} SET [state] = @state, [updated_at] = SYSUTCDATETIME() WHERE [entity] = @entity AND [epoch] = @epoch`,
    params: [
      { name: 'entity', type: 'nvarchar', value: entity },
      { name: 'epoch', type: 'bigint', value: epoch },
      { name: 'state', type: 'nvarchar', value: state },
    ],
  }),
};

export class MssqlImportLeaseStore implements ImportLeaseStore {
  constructor(private readonly db: MssqlLegacyDb, private readonly syncSchema: string) {}

  async ensureTable(): Promise<void> {
    const pool = await this.db.connected();
    for (const sql of mssqlImportLeaseDdl(this.syncSchema)) await pool.request().batch(sql);
  }

  async takeOver(entity: string, owner: string): Promise<LeaseTakeover> {
    const pool = await this.db.connected();
    for (let attempt = 0; ; attempt++) {
      const bumped = await runMssql<{ epoch: string | number; state: string | null }>(pool, mssqlImportLeaseSql.bump(this.syncSchema, entity, owner));
      const row = bumped.rows[0] ?? (await this.insertOrRace(entity, owner, attempt));
      if (row) return { epoch: Number(row.epoch), state: row.state };
    }
  }

  /** A new unit's first row; undefined when another replica inserted it first (then the UPDATE is retried). */
  private async insertOrRace(entity: string, owner: string, attempt: number): Promise<{ epoch: string | number; state: string | null } | undefined> {
    try {
      return (await runMssql<{ epoch: string | number; state: string | null }>(await this.db.connected(), mssqlImportLeaseSql.insert(this.syncSchema, entity, owner))).rows[0];
    } catch (err) {
      const code = (err as { number?: number }).number;
      if (attempt < 3 && code !== undefined && DUPLICATE_KEY.has(code)) return undefined;
      throw err;
    }
  }

  async currentEpoch(entity: string): Promise<number | undefined> {
    const row = (await runMssql<{ epoch: string | number }>(await this.db.connected(), mssqlImportLeaseSql.currentEpoch(this.syncSchema, entity))).rows[0];
    return row ? Number(row.epoch) : undefined;
  }

  async saveState(entity: string, epoch: number, state: string): Promise<boolean> {
    return (await runMssql(await this.db.connected(), mssqlImportLeaseSql.saveState(this.syncSchema, entity, epoch, state))).rowsAffected === 1;
  }
}
