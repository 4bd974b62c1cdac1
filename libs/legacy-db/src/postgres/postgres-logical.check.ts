import type { Pool } from 'pg';
import { quoteIdent, type SystemConfig } from '@sync/config';
import { identityProblem, logicalNames, logicalTables, pgReplicaIdentityQuery } from './postgres-logical.ddl';

const q = (name: string): string => quoteIdent('postgres', name);

/**
 * After the DDL (`sync-ctl schema --apply`): creates the system's replication slot when missing
 * (a slot cannot be created in the DDL transaction), or with `drop` drops it. Returns what it did.
 */
export async function preparePostgresLogical(pool: Pool, system: SystemConfig, drop: boolean): Promise<string[]> {
  if (logicalTables(system).length === 0) return [];
  const { slot } = logicalNames(system);
  const found = await pool.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  if (drop) {
    if (!found.rows[0]) return [];
    if (found.rows[0].active) throw new Error(`replication slot ${slot} is in use (legacy-import runs): stop it first`);
    await pool.query('SELECT pg_drop_replication_slot($1)', [slot]);
    return [`dropped replication slot ${slot}`];
  }
  if (found.rows[0]) return [`replication slot ${slot} exists`];
  const created = await pool.query<{ lsn: string }>("SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
  return [`created replication slot ${slot} at ${created.rows[0]!.lsn}`];
}

/**
 * What keeps logical capture of a system from working (`sync-ctl schema --verify`): wal_level,
 * the REPLICATION privilege, the publication and its tables, each table's replica identity.
 * An empty list means ready; a missing slot is not a problem (legacy-import creates it).
 */
export async function postgresLogicalProblems(pool: Pool, system: SystemConfig): Promise<string[]> {
  const tables = logicalTables(system);
  if (tables.length === 0) return [];
  const problems: string[] = [];
  const wal = (await pool.query<{ wal_level: string }>('SHOW wal_level')).rows[0]!.wal_level;
  if (wal !== 'logical') problems.push(`wal_level is ${wal}: logical decoding needs wal_level = logical (ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL)`);
  const role = (await pool.query<{ name: string; ok: boolean }>('SELECT current_user AS name, rolsuper OR rolreplication AS ok FROM pg_roles WHERE rolname = current_user')).rows[0];
  if (role && !role.ok) problems.push(`user ${role.name} lacks the REPLICATION privilege (ALTER ROLE ${q(role.name)} REPLICATION)`);
  const { publication } = logicalNames(system);
  const published = await pool.query<{ schemaname: string; tablename: string }>('SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1', [publication]);
  const exists = (await pool.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication])).rowCount !== 0;
  if (!exists) problems.push(`publication ${publication} does not exist: run sync-ctl schema --apply`);
  for (const t of tables) {
    const entity = `${system.name}.${t.schema}.${t.name}`;
    if (exists && !published.rows.some((r) => r.schemaname === t.schema && r.tablename === t.name)) {
      problems.push(`${entity}: not in publication ${publication}: run sync-ctl schema --apply`);
    }
    const identity = await pool.query<{ ident: string; identity_columns: string[] | null }>(pgReplicaIdentityQuery, [`${q(t.schema)}.${q(t.name)}`]);
    const problem = identityProblem(entity, t.key, identity.rows[0]);
    if (problem) problems.push(problem);
  }
  return problems;
}
