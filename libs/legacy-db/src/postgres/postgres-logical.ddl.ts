import { quoteIdent, type SystemConfig } from '@sync/config';

const q = (name: string): string => quoteIdent('postgres', name);

/** Tables of a system captured by logical decoding. */
export function logicalTables(system: SystemConfig): SystemConfig['tables'] {
  return system.tables.filter((t) => t.capture.mode === 'logical');
}

/**
 * The replication slot and the publication of a system: one each per pipeline system, named after
 * it (slot names allow only lower-case letters, digits and underscores, at most 63 bytes).
 */
export function logicalNames(system: Pick<SystemConfig, 'name'>): { slot: string; publication: string } {
  const base = `sync_${system.name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
  return { slot: base, publication: base };
}

/**
 * DDL for logical capture (runs in the one `sync-ctl schema --apply` transaction): the publication
 * of the system's logical tables (insert, update, delete; no truncate: row triggers do not see one
 * either), and for each table a replica identity that carries the configured key in the old image
 * of updates and deletes. A table whose identity already holds every key column (its primary key,
 * or the index chosen with USING INDEX) keeps it; otherwise it gets REPLICA IDENTITY FULL, the one
 * that works without a suitable index (docs/legacy-import.md, logical decoding). The slot is not
 * DDL: it cannot be created in a transaction that wrote (createLogicalSlot).
 */
export function postgresLogicalDdl(system: SystemConfig): string[] {
  const tables = logicalTables(system);
  if (tables.length === 0) return [];
  const { publication } = logicalNames(system);
  const list = tables.map((t) => `${q(t.schema)}.${q(t.name)}`).join(', ');
  const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;
  const identity = tables.map(
    (t) => `DO $sync$
DECLARE
  rel regclass := ${lit(`${q(t.schema)}.${q(t.name)}`)}::regclass;
  ident "char";
  covered boolean;
BEGIN
  SELECT relreplident INTO ident FROM pg_class WHERE oid = rel;
  IF ident = 'f' THEN RETURN; END IF;
  SELECT coalesce(bool_and(k.attname IS NOT NULL), false) INTO covered
    FROM unnest(ARRAY[${t.key.map(lit).join(', ')}]::name[]) AS want(col)
    LEFT JOIN (SELECT a.attname FROM pg_index i
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                WHERE i.indrelid = rel AND ((ident = 'd' AND i.indisprimary) OR (ident = 'i' AND i.indisreplident))) k ON k.attname = want.col;
  IF NOT covered THEN
    RAISE NOTICE '% : replica identity does not carry the key, setting REPLICA IDENTITY FULL', rel;
    EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', rel);
  END IF;
END
$sync$`,
  );
  const pub = `DO $sync$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = ${lit(publication)}) THEN
    ALTER PUBLICATION ${q(publication)} SET TABLE ${list};
  ELSE
    CREATE PUBLICATION ${q(publication)} FOR TABLE ${list} WITH (publish = 'insert, update, delete');
  END IF;
END
$sync$`;
  return [...identity, pub];
}

/** Drops the publication (the slot is dropped by dropLogicalSlot: it is not transactional). */
export function postgresLogicalDropDdl(system: SystemConfig): string[] {
  if (logicalTables(system).length === 0) return [];
  return [`DROP PUBLICATION IF EXISTS ${q(logicalNames(system).publication)}`];
}

/** The replica identity problem of a table (from the catalog query below), or undefined when its old images carry the key. */
export function identityProblem(entity: string, key: readonly string[], row: { ident: string; identity_columns: string[] | null } | undefined): string | undefined {
  if (!row) return `${entity}: table not found`;
  if (row.ident === 'f') return undefined;
  if (row.ident === 'n') return `${entity}: REPLICA IDENTITY NOTHING: updates and deletes carry no key; run sync-ctl schema --apply (sets REPLICA IDENTITY FULL) or ALTER TABLE ... REPLICA IDENTITY`;
  const cols = row.identity_columns ?? [];
  const missing = key.filter((k) => !cols.includes(k));
  if (missing.length === 0) return undefined;
  const what = cols.length === 0 ? 'has no primary key' : `its replica identity (${cols.join(', ')}) lacks key column(s) ${missing.join(', ')}`;
  return `${entity}: ${what}, so updates and deletes would not carry the key; run sync-ctl schema --apply (sets REPLICA IDENTITY FULL) or ALTER TABLE ... REPLICA IDENTITY USING INDEX`;
}

/** $1 = qualified table name: its replica identity kind and the columns of its identity index. */
export const pgReplicaIdentityQuery = `SELECT c.relreplident::text AS ident,
  (SELECT array_agg(a.attname::text) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
    WHERE i.indrelid = c.oid AND ((c.relreplident = 'd' AND i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident))) AS identity_columns
  FROM pg_class c WHERE c.oid = to_regclass($1)`;
