import type { Pool } from 'pg';
import { quoteIdent } from '@sync/config';
import { IMPORT_LEASE_TABLE, type ImportLeaseStore, type LeaseTakeover } from '../core/import-lease';
import type { PgStatementText } from './postgres-inbox-retention.sql';

const pq = (name: string): string => quoteIdent('postgres', name);
const leaseTable = (syncSchema: string): string => `${pq(syncSchema)}.${pq(IMPORT_LEASE_TABLE)}`;

export function postgresImportLeaseDdl(syncSchema: string): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${pq(syncSchema)}`,
    `CREATE TABLE IF NOT EXISTS ${leaseTable(syncSchema)} (
  "entity" text PRIMARY KEY,
  "epoch" bigint NOT NULL,
  "owner" text NOT NULL,
  "state" text,
  "updated_at" timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
  ];
}

/** The lease statements, pure: the epoch moves only by takeover, a state is written only under its epoch. */
export const postgresImportLeaseSql = {
  takeOver: (syncSchema: string, entity: string, owner: string): PgStatementText => ({
    text: `INSERT INTO ${leaseTable(syncSchema)} AS l ("entity", "epoch", "owner") VALUES ($1, 1, $2)
ON CONFLICT ("entity") DO UPDATE SET "epoch" = l."epoch" + 1, "owner" = EXCLUDED."owner", "updated_at" = clock_timestamp()
RETURNING "epoch", "state"`,
    values: [entity, owner],
  }),
  currentEpoch: (syncSchema: string, entity: string): PgStatementText => ({
    text: `SELECT "epoch" FROM ${leaseTable(syncSchema)} WHERE "entity" = $1`,
    values: [entity],
  }),
  saveState: (syncSchema: string, entity: string, epoch: number, state: string): PgStatementText => ({
    text: `UPDATE ${leaseTable(syncSchema)} SET "state" = $3, "updated_at" = clock_timestamp() WHERE "entity" = $1 AND "epoch" = $2`,
    values: [entity, epoch, state],
  }),
};

export class PostgresImportLeaseStore implements ImportLeaseStore {
  constructor(private readonly pool: Pool, private readonly syncSchema: string) {}

  async ensureTable(): Promise<void> {
    for (const sql of postgresImportLeaseDdl(this.syncSchema)) await this.pool.query(sql);
  }

  async takeOver(entity: string, owner: string): Promise<LeaseTakeover> {
    const s = postgresImportLeaseSql.takeOver(this.syncSchema, entity, owner);
    const row = (await this.pool.query<{ epoch: string; state: string | null }>(s.text, [...s.values])).rows[0]!;
    return { epoch: Number(row.epoch), state: row.state };
  }

  async currentEpoch(entity: string): Promise<number | undefined> {
    const s = postgresImportLeaseSql.currentEpoch(this.syncSchema, entity);
    const row = (await this.pool.query<{ epoch: string }>(s.text, [...s.values])).rows[0];
    return row ? Number(row.epoch) : undefined;
  }

  async saveState(entity: string, epoch: number, state: string): Promise<boolean> {
    const s = postgresImportLeaseSql.saveState(this.syncSchema, entity, epoch, state);
    return ((await this.pool.query(s.text, [...s.values])).rowCount ?? 0) === 1;
  }
}
