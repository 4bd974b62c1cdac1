import type { Row } from '@sync/contracts';
import type { LocalKeyRef } from '../forward.translator';
import type { TargetState } from '../writeback.resolver';
import type { DataSource, QueryRunner } from 'typeorm';
import { sqlStateOf } from '@sync/errors';

/** What both the pool and a transaction's runner can do. */
interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** A row of the key map named by target table and global id. */
export interface RowKey {
  readonly system: string;
  readonly tableRef: string;
  readonly globalId: string;
}

export interface NewEntry {
  readonly ref: LocalKeyRef;
  readonly globalId: string;
  readonly origin: 'legacy' | 'merge' | 'link' | 'allocated' | 'request';
}

export interface ParkedCommand {
  readonly id: string;
  readonly commandId: string;
  readonly system: string;
  readonly tableRef: string;
  readonly globalId: string;
  readonly waitingOn: readonly string[];
  readonly reason: string;
  readonly sourceTopic: string;
  readonly sourcePartition: number;
  readonly sourceOffset: string;
  readonly messageKey: string | null;
  readonly messageValue: string;
  readonly headers: Record<string, string>;
  readonly parkedAt: Date;
}

export type NewParkedCommand = Omit<ParkedCommand, 'id' | 'parkedAt'>;

export function rowKeyId(key: RowKey): string {
  return `${key.system}\u0000${key.tableRef}\u0000${key.globalId}`;
}

function rows<T>(result: unknown): T[] {
  return result as T[];
}

function columns<T, K extends keyof T>(items: readonly T[], ...fields: K[]): unknown[][] {
  return fields.map((field) => items.map((item) => item[field]));
}

// Every lookup takes arrays and joins against unnest(...): one statement per batch, whatever its size.
const WITH_ROW_KEYS = 'WITH q(system, table_ref, global_id) AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))';

// One primary-key probe per wanted key. A plain join of keymap_entry with the unnest(...) rows is
// planned as a hash join over a sequential scan of the whole key map (PostgreSQL estimates one
// matching row for the three-column join): 19 ms for 500 keys in a 21,000-row key map, growing
// with the map, against 2 ms this way. LIMIT 1 (the key is unique) keeps the planner from
// flattening the subquery back into that join.
const BY_PRIMARY_KEY = `JOIN LATERAL (
  SELECT x.global_id FROM keymap_entry x WHERE x.system = q.system AND x.table_ref = q.table_ref AND x.local_key = q.local_key LIMIT 1) e ON true`;

/** Global ids of the local keys that have one, by refId (shared with the read model). */
export async function findGlobalIds(db: Queryable, refs: readonly LocalKeyRef[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (refs.length === 0) return out;
  const found = rows<{ system: string; table_ref: string; local_key: string; global_id: string }>(
    await db.query(
      `WITH q(system, table_ref, local_key) AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))
       SELECT q.system, q.table_ref, q.local_key, e.global_id FROM q ${BY_PRIMARY_KEY}`,
      columns(refs, 'system', 'tableRef', 'localKey'),
    ),
  );
  for (const r of found) out.set(`${r.system}\u0000${r.table_ref}\u0000${r.local_key}`, r.global_id);
  return out;
}

async function insertEntries(db: Queryable, entries: readonly NewEntry[]): Promise<void> {
  if (entries.length === 0) return;
  // DO NOTHING on either unique constraint: whoever came first (a replica, an earlier run) wins,
  // and every caller reads the winner back.
  await db.query(
    `INSERT INTO keymap_entry (system, table_ref, local_key, key_values, global_id, origin)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::text[])
     ON CONFLICT DO NOTHING`,
    [
      entries.map((e) => e.ref.system),
      entries.map((e) => e.ref.tableRef),
      entries.map((e) => e.ref.localKey),
      entries.map((e) => JSON.stringify(e.ref.keyValues)),
      entries.map((e) => e.globalId),
      entries.map((e) => e.origin),
    ],
  );
}

/**
 * Stores the entries whose keys are new (ON CONFLICT DO NOTHING on either unique constraint) and
 * returns the stored global id of every entry's key, by refId: the one inserted now, or the one
 * stored before. One statement in the usual case; a key stored by a concurrent writer (another
 * replica) after the statement began is neither inserted nor visible to its snapshot, and is read
 * back by a second statement. A key still absent after that had its id refused by the global-id
 * constraint (the id is taken by another row of the table): the caller tries another id.
 */
export async function claimEntries(db: Queryable, entries: readonly NewEntry[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (entries.length === 0) return out;
  // In key order: two replicas inserting overlapping batches then wait for each other in one
  // order, rather than deadlock.
  const sorted = [...entries].sort((x, y) => compareRefs(x.ref, y.ref));
  const found = rows<{ system: string; table_ref: string; local_key: string; global_id: string }>(
    await db.query(
      `WITH q(system, table_ref, local_key, key_values, global_id, origin) AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::text[])),
       ins AS (
         INSERT INTO keymap_entry (system, table_ref, local_key, key_values, global_id, origin)
         SELECT * FROM q ON CONFLICT DO NOTHING
         RETURNING system, table_ref, local_key, global_id)
       SELECT system, table_ref, local_key, global_id FROM ins
       UNION ALL
       SELECT q.system, q.table_ref, q.local_key, e.global_id FROM q ${BY_PRIMARY_KEY}`,
      [
        sorted.map((e) => e.ref.system),
        sorted.map((e) => e.ref.tableRef),
        sorted.map((e) => e.ref.localKey),
        sorted.map((e) => JSON.stringify(e.ref.keyValues)),
        sorted.map((e) => e.globalId),
        sorted.map((e) => e.origin),
      ],
    ),
  );
  // The SELECT branch sees the statement's snapshot only: rows stored before it, never its own inserts.
  for (const r of found) out.set(`${r.system}\u0000${r.table_ref}\u0000${r.local_key}`, r.global_id);
  const missing = sorted.filter((e) => !out.has(`${e.ref.system}\u0000${e.ref.tableRef}\u0000${e.ref.localKey}`)).map((e) => e.ref);
  if (missing.length > 0) for (const [id, globalId] of await findGlobalIds(db, missing)) out.set(id, globalId);
  return out;
}

function compareRefs(x: LocalKeyRef, y: LocalKeyRef): number {
  return x.system < y.system ? -1 : x.system > y.system ? 1 : x.tableRef < y.tableRef ? -1 : x.tableRef > y.tableRef ? 1 : x.localKey < y.localKey ? -1 : x.localKey > y.localKey ? 1 : 0;
}

/** The key map in PostgreSQL: batched lookups and inserts, and the locked write-back transaction. */
export class KeymapRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Global ids of the local keys that have one, by refId. */
  findGlobalIds(refs: readonly LocalKeyRef[]): Promise<Map<string, string>> {
    return findGlobalIds(this.dataSource, refs);
  }

  insertEntries(entries: readonly NewEntry[]): Promise<void> {
    return insertEntries(this.dataSource, entries);
  }

  /** Stores the new keys' entries and returns every entry's stored global id (see claimEntries). */
  claimEntries(entries: readonly NewEntry[]): Promise<Map<string, string>> {
    return claimEntries(this.dataSource, entries);
  }

  /**
   * Moves a row's global id from its old local key to its new one (a primary-key update), unless
   * the new key has an id already (the move was made, or the new key was seen first). Returns the
   * id moved, or undefined when nothing moved. Two replicas moving at once: the row lock makes the
   * second see the first's result and move nothing.
   */
  async moveKey(from: LocalKeyRef, to: LocalKeyRef): Promise<string | undefined> {
    try {
      const [moved] = rows<{ global_id: string }>(
        await this.dataSource.query(
          `WITH moved AS (
             UPDATE keymap_entry e SET local_key = $4, key_values = $5::jsonb
              WHERE e.system = $1 AND e.table_ref = $2 AND e.local_key = $3
                AND NOT EXISTS (SELECT 1 FROM keymap_entry x WHERE x.system = $1 AND x.table_ref = $2 AND x.local_key = $4)
             RETURNING e.global_id)
           SELECT global_id FROM moved`,
          [from.system, from.tableRef, from.localKey, to.localKey, JSON.stringify(to.keyValues)],
        ),
      );
      return moved?.global_id;
    } catch (err) {
      // The new key was stored by another replica between the check and the update: nothing moved.
      if (sqlStateOf(err) === '23505') return undefined;
      throw err;
    }
  }

  /**
   * Runs `work` in one transaction holding the key map's write-back lock. Parking, releasing,
   * pending inserts and links of all replicas are serialised by it, so a released command can
   * never be overtaken by a later one for the same row.
   */
  async withWritebackLock<T>(work: (tx: KeymapTransaction) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await runner.query('SELECT pg_advisory_xact_lock($1)', [WRITEBACK_LOCK]);
      const result = await work(new KeymapTransaction(runner));
      await runner.commitTransaction();
      return result;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }

  async parkedCount(): Promise<number> {
    const [r] = rows<{ n: string }>(await this.dataSource.query('SELECT count(*) AS n FROM keymap_parked_command'));
    return Number(r?.n ?? 0);
  }
}

const WRITEBACK_LOCK = 7_345_002;

export class KeymapTransaction {
  constructor(private readonly db: QueryRunner) {}

  findGlobalIds(refs: readonly LocalKeyRef[]): Promise<Map<string, string>> {
    return findGlobalIds(this.db, refs);
  }

  insertEntries(entries: readonly NewEntry[]): Promise<void> {
    return insertEntries(this.db, entries);
  }

  /**
   * Gives rows new local keys (the new side changed a legacy primary key): one statement. The
   * caller has checked that no other row holds the new keys (findGlobalIds).
   */
  async moveRows(moves: ReadonlyArray<{ readonly row: RowKey; readonly to: LocalKeyRef }>): Promise<void> {
    if (moves.length === 0) return;
    await this.db.query(
      `WITH m(system, table_ref, global_id, local_key, key_values) AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[]))
       UPDATE keymap_entry e SET local_key = m.local_key, key_values = m.key_values FROM m
        WHERE e.system = m.system AND e.table_ref = m.table_ref AND e.global_id = m.global_id`,
      [
        moves.map((m) => m.row.system),
        moves.map((m) => m.row.tableRef),
        moves.map((m) => m.row.globalId),
        moves.map((m) => m.to.localKey),
        moves.map((m) => JSON.stringify(m.to.keyValues)),
      ],
    );
  }

  /** Known keys and pending inserts of the given rows, by rowKeyId (absent: unknown). */
  async states(keys: readonly RowKey[]): Promise<Map<string, TargetState>> {
    const out = new Map<string, TargetState>();
    if (keys.length === 0) return out;
    const found = rows<{ kind: 'known' | 'pending'; system: string; table_ref: string; global_id: string; key_values: Row | null; command_id: string | null }>(
      await this.db.query(
        `${WITH_ROW_KEYS}
         SELECT 'known' AS kind, e.system, e.table_ref, e.global_id, e.key_values, NULL AS command_id
           FROM keymap_entry e JOIN q USING (system, table_ref, global_id)
         UNION ALL
         SELECT 'pending', p.system, p.table_ref, p.global_id, NULL, p.command_id
           FROM keymap_pending_insert p JOIN q USING (system, table_ref, global_id)`,
        columns(keys, 'system', 'tableRef', 'globalId'),
      ),
    );
    const known = new Map<string, Row>();
    const insertedBy = new Map<string, string>();
    for (const r of found) {
      const id = rowKeyId({ system: r.system, tableRef: r.table_ref, globalId: r.global_id });
      if (r.kind === 'known' && r.key_values) known.set(id, r.key_values);
      if (r.kind === 'pending' && r.command_id) insertedBy.set(id, r.command_id);
    }
    for (const key of keys) {
      const id = rowKeyId(key);
      const key_ = known.get(id);
      const by = insertedBy.get(id);
      if (key_) out.set(id, { kind: 'known', key: key_, ...(by !== undefined ? { insertedBy: by } : {}) });
      else if (by !== undefined) out.set(id, { kind: 'pending', insertedBy: by });
    }
    return out;
  }

  /** Rows among `keys` that have parked commands, by rowKeyId. */
  async parkedRows(keys: readonly RowKey[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const found = rows<{ system: string; table_ref: string; global_id: string }>(
      await this.db.query(
        `${WITH_ROW_KEYS} SELECT DISTINCT p.system, p.table_ref, p.global_id FROM keymap_parked_command p JOIN q USING (system, table_ref, global_id)`,
        columns(keys, 'system', 'tableRef', 'globalId'),
      ),
    );
    return new Set(found.map((r) => rowKeyId({ system: r.system, tableRef: r.table_ref, globalId: r.global_id })));
  }

  async recordPending(items: ReadonlyArray<RowKey & { commandId: string }>): Promise<void> {
    if (items.length === 0) return;
    await this.db.query(
      `INSERT INTO keymap_pending_insert (system, table_ref, global_id, command_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
      columns(items, 'system', 'tableRef', 'globalId', 'commandId'),
    );
  }

  async markLinked(keys: readonly RowKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.query(
      `${WITH_ROW_KEYS} UPDATE keymap_pending_insert p SET linked_at = now() FROM q
        WHERE p.system = q.system AND p.table_ref = q.table_ref AND p.global_id = q.global_id AND p.linked_at IS NULL`,
      columns(keys, 'system', 'tableRef', 'globalId'),
    );
  }

  /** Reserves `count` consecutive keys of a table; returns the first. */
  async allocate(system: string, tableRef: string, start: number, count: number): Promise<number> {
    const [r] = rows<{ first: string }>(
      await this.db.query(
        `INSERT INTO keymap_key_sequence (system, table_ref, next_value) VALUES ($1, $2, $3::bigint + $4::bigint)
         ON CONFLICT (system, table_ref) DO UPDATE SET next_value = keymap_key_sequence.next_value + $4::bigint
         RETURNING next_value - $4::bigint AS first`,
        [system, tableRef, start, count],
      ),
    );
    return Number(r!.first);
  }

  async park(commands: readonly NewParkedCommand[]): Promise<void> {
    if (commands.length === 0) return;
    // Serial ids follow insertion order, which is the order commands arrived in.
    await this.db.query(
      `INSERT INTO keymap_parked_command (command_id, system, table_ref, global_id, waiting_on, reason, source_topic, source_partition, source_offset, message_key, message_value, headers)
       SELECT c.command_id, c.system, c.table_ref, c.global_id, ARRAY(SELECT jsonb_array_elements_text(c.waiting_on)), c.reason, c.source_topic, c.source_partition, c.source_offset, c.message_key, c.message_value, c.headers
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], $11::text[], $12::jsonb[])
           WITH ORDINALITY AS c(command_id, system, table_ref, global_id, waiting_on, reason, source_topic, source_partition, source_offset, message_key, message_value, headers, n)
        ORDER BY c.n
       ON CONFLICT (command_id) DO NOTHING`,
      [
        commands.map((c) => c.commandId),
        commands.map((c) => c.system),
        commands.map((c) => c.tableRef),
        commands.map((c) => c.globalId),
        commands.map((c) => JSON.stringify(c.waitingOn)),
        commands.map((c) => c.reason),
        commands.map((c) => c.sourceTopic),
        commands.map((c) => c.sourcePartition),
        commands.map((c) => c.sourceOffset),
        commands.map((c) => c.messageKey),
        commands.map((c) => c.messageValue),
        commands.map((c) => JSON.stringify(c.headers)),
      ],
    );
  }

  /** Rows with a parked command waiting on one of `globalIds`. */
  async rowsWaitingOn(globalIds: readonly string[]): Promise<RowKey[]> {
    if (globalIds.length === 0) return [];
    const found = rows<{ system: string; table_ref: string; global_id: string }>(
      await this.db.query('SELECT DISTINCT system, table_ref, global_id FROM keymap_parked_command WHERE waiting_on && $1::text[]', [globalIds]),
    );
    return found.map((r) => ({ system: r.system, tableRef: r.table_ref, globalId: r.global_id }));
  }

  /** Every parked command of the given rows, in arrival order; locked until the transaction ends. */
  async parkedFor(keys: readonly RowKey[]): Promise<ParkedCommand[]> {
    if (keys.length === 0) return [];
    return rows<ParkedRow>(
      await this.db.query(`${WITH_ROW_KEYS} SELECT p.* FROM keymap_parked_command p JOIN q USING (system, table_ref, global_id) ORDER BY p.id`, columns(keys, 'system', 'tableRef', 'globalId')),
    ).map(fromParkedRow);
  }

  /** Parked commands older than `maxAgeMs`, oldest first. */
  async expired(maxAgeMs: number, limit: number): Promise<ParkedCommand[]> {
    return rows<ParkedRow>(
      await this.db.query(`SELECT * FROM keymap_parked_command WHERE parked_at < now() - make_interval(secs => $1::double precision / 1000) ORDER BY id LIMIT $2`, [maxAgeMs, limit]),
    ).map(fromParkedRow);
  }

  async updateParked(id: string, waitingOn: readonly string[], reason: string): Promise<void> {
    await this.db.query('UPDATE keymap_parked_command SET waiting_on = $2::text[], reason = $3 WHERE id = $1', [id, waitingOn, reason]);
  }

  async deleteParked(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query('DELETE FROM keymap_parked_command WHERE id = ANY($1::bigint[])', [ids]);
  }
}

interface ParkedRow {
  id: string;
  command_id: string;
  system: string;
  table_ref: string;
  global_id: string;
  waiting_on: string[];
  reason: string;
  source_topic: string;
  source_partition: number;
  source_offset: string;
  message_key: string | null;
  message_value: string;
  headers: Record<string, string>;
  parked_at: Date;
}

function fromParkedRow(r: ParkedRow): ParkedCommand {
  return {
    id: String(r.id),
    commandId: r.command_id,
    system: r.system,
    tableRef: r.table_ref,
    globalId: r.global_id,
    waitingOn: r.waiting_on,
    reason: r.reason,
    sourceTopic: r.source_topic,
    sourcePartition: r.source_partition,
    sourceOffset: r.source_offset,
    messageKey: r.message_key,
    messageValue: r.message_value,
    headers: r.headers,
    parkedAt: r.parked_at,
  };
}
