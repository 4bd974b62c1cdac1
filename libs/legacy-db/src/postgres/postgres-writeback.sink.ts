import type { Pool, PoolClient } from 'pg';
import { quoteIdent, type SystemConfig, type TableConfig } from '@sync/config';
import type { Row } from '../core/capture-source.interface';
import { changelogNames, SELF_LOGGED_SETTING, selfLoggedValue } from '../core/changelog-names';
import { SinkError } from '../core/sink-error';
import { classifyPostgresError } from './postgres-sink-error';
import { assertKnownColumns, metaId, withMetadataRefresh } from '../core/sink-metadata';
import { byColumnSet, chunk, keyString, keyValue, validateCommand, type FoldedUpsert, type KeyedCommand } from '../core/writeback-plan';
import { pgKeyMovePlan, pgOtherUniqueIndexesQuery, pgReferencingKeysQuery, pgRowExists, pgWritableColumnsQuery, type PgReferencingKey } from './postgres-key-move';
import {
  PG_MAX_PARAMS,
  PG_MAX_ROWS,
  pgAllocateKeys,
  pgBegin,
  pgCatalogQuery,
  pgConflicts,
  pgDelete,
  pgDeleteLocked,
  pgInboxInsert,
  pgInboxLookup,
  pgInsert,
  pgLockRows,
  pgPark,
  pgParked,
  pgKeyIndexesQuery,
  pgSelfLoggedTriggerQuery,
  pgUnpark,
  pgSequenceQuery,
  pgSetOrigin,
  PG_ORIGIN_MESSAGE,
  pgUpdate,
  isInboxDuplicate,
  isKeyTaken,
  qualified,
  type ConflictProbe,
  type PgStatement,
  type PgTableMeta,
} from './postgres-writeback.sql';
import type { PendingCommand } from '../core/sink-results';
import { applyBatchInTransaction } from '../core/apply-batch';
import type { LegacyVersion, ParkedCommand, SinkCommand, SinkResult, WritebackSink } from '../core/writeback-sink.interface';

/** The statement builders, for tests that check the generated SQL against a real database. */
export const postgresWritebackStatements = {
  begin: pgBegin,
  setOrigin: pgSetOrigin,
  inboxLookup: pgInboxLookup,
  lockRows: pgLockRows,
  conflicts: pgConflicts,
  deleteLocked: pgDeleteLocked,
  delete: pgDelete,
  update: pgUpdate,
  insert: pgInsert,
  allocateKeys: pgAllocateKeys,
  inboxInsert: pgInboxInsert,
} as const;

interface ConflictRow {
  i: number;
  position: string;
  op: 'c' | 'u' | 'd';
  changed_at: Date;
  after: string | null;
}

/** PostgreSQL write-back: one transaction per batch, multi-row statements, inbox and origin marker. */
export class PostgresWritebackSink implements WritebackSink {
  readonly system: string;
  private readonly metas = new Map<string, PgTableMeta>();

  constructor(private readonly pool: Pool, private readonly config: SystemConfig) {
    this.system = config.name;
  }

  /**
   * Applies one batch. A schema error (a column or table missing, a type changed), or a command
   * naming a column the cached metadata does not know, refreshes the table's metadata once and
   * retries the batch: a column added since the metadata was read needs no restart. If it
   * persists, the batch fails as `schema` (the app holds the entity and tries again later).
   */
  async applyBatch(table: TableConfig, commands: readonly SinkCommand[]): Promise<SinkResult[]> {
    for (const c of commands) validateCommand(table, c);
    return withMetadataRefresh(
      () => this.metas.delete(metaId(table)),
      async () => {
        const meta = await this.meta(table);
        assertKnownColumns(table, commands, (column) => meta.types.has(column));
        return this.applyWithMeta(table, meta, commands);
      },
    );
  }

  private async applyWithMeta(table: TableConfig, meta: PgTableMeta, commands: readonly SinkCommand[]): Promise<SinkResult[]> {
    if (table.generatedKey && commands.some((c) => Object.keys(c.key).length === 0) && meta.keySequence === null) {
      throw new SinkError('data', `${qualified(table)}: generatedKey is set but the key column has no sequence or identity`);
    }
    // Redeliveries are rare, so the first attempt does not look the inbox up: it writes the inbox
    // rows first, and a recorded command id fails that insert; the batch is then redone with the
    // lookup. Likewise a key a legacy transaction inserted since the rows were locked fails the
    // plain INSERT (pgInsert), and the redone batch finds the row. Three attempts at most.
    let lookup = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transaction((client) => this.applyInTransaction(client, table, meta, commands, lookup));
      } catch (err) {
        const inbox = isInboxDuplicate(err, this.config.syncSchema);
        if (!inbox && !isKeyTaken(err, table, meta)) throw classifyPostgresError(err);
        lookup ||= inbox;
        if (attempt === 3) {
          const what = inbox ? 'commands of this batch keep being recorded concurrently' : 'keys of this batch keep being inserted concurrently (or the key sequence is behind the table)';
          throw new SinkError('environment', `${qualified(table)}: ${what} (${(err as Error).message})`, { cause: err });
        }
      }
    }
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let failure: unknown;
    try {
      await client.query(pgBegin);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      failure = err;
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      // A connection that failed mid-transaction may be broken: destroy it rather than reuse it.
      const kind = failure === undefined ? undefined : classifyPostgresError(failure).kind;
      client.release(kind === 'environment' ? (failure as Error) : undefined);
    }
  }

  /** The batch algorithm is core's (applyBatchInTransaction); these are PostgreSQL's statements for it. */
  private applyInTransaction(client: PoolClient, table: TableConfig, meta: PgTableMeta, commands: readonly SinkCommand[], lookup: boolean): Promise<SinkResult[]> {
    const run = (s: PgStatement) => client.query(s.text, s.values);
    // Trigger-captured tables: the statements record their rows in the changelog themselves.
    const log = meta.selfLogged ? this.changelog(table) : undefined;
    const selfLogged = log ? selfLoggedValue(table) : '';
    let origin = '';
    return applyBatchInTransaction(table, commands, {
      // Redeliveries are rare: the first attempt skips the lookup (see applyWithMeta).
      recorded: async (ids) => {
        const recorded = new Map<string, { outcome: string; result: string | null }>();
        if (!lookup) return recorded;
        for (const part of chunk(ids, 1, PG_MAX_PARAMS)) {
          const res = await run(pgInboxLookup(this.config.syncSchema, part));
          for (const r of res.rows as Array<{ command_id: string; outcome: string; result: string | null }>) recorded.set(r.command_id, r);
        }
        return recorded;
      },
      lockExisting: async (keys) => {
        const existing = new Set<string>();
        for (const part of chunk(keys, 1, PG_MAX_ROWS)) {
          const res = await run(pgLockRows(table, meta, part));
          const found = (res.rows[0] as { found: string | null }).found ?? '';
          part.forEach((key, i) => {
            if (found[i] === '1') existing.add(keyString(table, key));
          });
        }
        return existing;
      },
      conflicts: (keyed) => this.conflicts(client, table, keyed),
      generatedKeys: 'before',
      reserveKeys: async (inserts) => {
        const res = await run(pgAllocateKeys(meta.keySequence!, inserts.length));
        const column = table.key[0]!;
        inserts.forEach((p, i) => (p.generatedKey = { [column]: keyValue((res.rows[i] as { k: string }).k) }));
      },
      inbox: 'before',
      recordInbox: async (rows) => {
        for (const part of chunk(rows, 1, 10_000)) await run(pgInboxInsert(this.config.syncSchema, table, part));
      },
      setOrigin: async (next) => {
        origin = next;
        await run(pgSetOrigin(next, selfLogged));
      },
      moveRow: async (item, existing) => {
        await this.moveRow(client, table, meta, item, existing);
        // The move is logged by the trigger itself (with the origin marker): back to self-logging.
        if (selfLogged) await run(pgSetOrigin(origin, selfLogged));
      },
      writeRun: async (folded, existing) => {
        const deleteIds = folded.deletes.map((key) => keyString(table, key));
        const lockedDeletes = folded.deletes.filter((_, i) => existing.has(deleteIds[i]!));
        const otherDeletes = folded.deletes.filter((_, i) => !existing.has(deleteIds[i]!));
        for (const keys of chunk(lockedDeletes, 1, PG_MAX_ROWS)) await run(pgDeleteLocked(table, meta, keys, log));
        for (const keys of chunk(otherDeletes, 1, PG_MAX_ROWS)) await run(pgDelete(table, meta, keys, log));
        for (const id of deleteIds) existing.delete(id);
        for (const group of byColumnSet(table, folded.upserts)) {
          const updates: FoldedUpsert[] = [];
          const inserts: FoldedUpsert[] = [];
          const ids = group.rows.map((r) => {
            const id = keyString(table, r.key);
            (!r.afterDelete && existing.has(id) ? updates : inserts).push(r);
            return id;
          });
          if (group.columns.length > 0) for (const rows of chunk(updates, 1, PG_MAX_ROWS)) await run(pgUpdate(table, meta, group.columns, rows, log));
          for (const rows of chunk(inserts, 1, PG_MAX_ROWS)) await run(pgInsert(table, meta, group.columns, rows, log));
          for (const id of ids) existing.add(id);
        }
      },
    });
  }

  /**
   * Moves a row to the new primary key the new side gave it (docs/primary-key-updates.md), with
   * the capture trigger recording the statements (origin marker set: no echo). A row that is not
   * there is not moved; the command's columns then go to the new key as for any upsert.
   */
  private async moveRow(client: PoolClient, table: TableConfig, meta: PgTableMeta, item: KeyedCommand, existing: Set<string>): Promise<void> {
    const from = item.command.key;
    const to = item.command.newKey!;
    const fromId = keyString(table, from);
    if (!existing.has(fromId)) return;
    const taken = await client.query(pgRowExists(table, meta, to));
    if (taken.rowCount) {
      throw new SinkError('data', `command ${item.command.commandId}: cannot move ${qualified(table)} ${JSON.stringify(from)} to ${JSON.stringify(to)}: a row with that key exists`);
    }
    await client.query(`SELECT set_config('sync.origin', $1, true), set_config($2, '', true), ${PG_ORIGIN_MESSAGE}`, [item.command.origin, SELF_LOGGED_SETTING]);
    const fks = (await client.query<{ child: string; on_update: string; child_columns: string[]; parent_columns: string[] }>(pgReferencingKeysQuery, [qualified(table), table.key])).rows.map(
      (r): PgReferencingKey => ({ child: r.child, onUpdate: r.on_update, childColumns: r.child_columns, parentColumns: r.parent_columns }),
    );
    let writable: string[] = [];
    if (!fks.every((fk) => fk.onUpdate === 'c')) {
      // Copy, re-point, delete: a unique index on other columns would refuse the copy.
      const unique = (await client.query<{ name: string }>(pgOtherUniqueIndexesQuery, [qualified(table), table.key])).rows.map((r) => r.name);
      if (unique.length > 0) {
        const blocking = fks.filter((fk) => fk.onUpdate !== 'c').map((fk) => fk.child);
        throw new SinkError(
          'data',
          `command ${item.command.commandId}: cannot move ${qualified(table)} ${JSON.stringify(from)} to ${JSON.stringify(to)}: foreign keys of ${blocking.join(', ')} do not cascade updates and unique index ${unique.join(', ')} forbids a copy; declare those foreign keys ON UPDATE CASCADE or change the key in the legacy application`,
        );
      }
      writable = (await client.query<{ name: string }>(pgWritableColumnsQuery, [qualified(table)])).rows.map((r) => r.name);
    }
    for (const statement of pgKeyMovePlan(table, meta, fks, writable, from, to)) await client.query(statement.text, statement.values);
    existing.delete(fromId);
    existing.add(keyString(table, to));
  }

  /** Later legacy edits of the rows the commands are based on; only trigger-captured tables keep the history needed. */
  private async conflicts(client: PoolClient, table: TableConfig, keyed: readonly PendingCommand[]): Promise<Map<number, LegacyVersion>> {
    const out = new Map<number, LegacyVersion>();
    if (table.capture.mode !== 'trigger') return out;
    const probes: ConflictProbe[] = keyed
      .filter((p) => p.command.basedOn !== undefined && /^\d+$/.test(p.command.basedOn))
      .map((p) => ({ index: p.index, basedOn: p.command.basedOn!, key: p.command.key }));
    const changelog = this.changelog(table);
    for (const part of chunk(probes, 1, PG_MAX_ROWS)) {
      const statement = pgConflicts(table, changelog, part);
      const res = await client.query(statement.text, statement.values);
      for (const r of res.rows as ConflictRow[]) {
        out.set(r.i, { position: r.position, op: r.op, changedAt: r.changed_at.toISOString(), row: r.after === null ? null : (JSON.parse(r.after) as Row) });
      }
    }
    return out;
  }

  private changelog(table: TableConfig): string {
    return `${quoteIdent('postgres', this.config.syncSchema)}.${quoteIdent('postgres', changelogNames(table).table)}`;
  }

  async park(table: TableConfig, command: SinkCommand, reason: string): Promise<void> {
    const s = pgPark(this.config.syncSchema, table, command.commandId, command.globalId, command, reason);
    try {
      await this.pool.query(s.text, s.values);
    } catch (err) {
      throw classifyPostgresError(err);
    }
  }

  async parked(table: TableConfig): Promise<ParkedCommand[]> {
    const s = pgParked(this.config.syncSchema, table);
    try {
      const res = await this.pool.query<{ command_id: string; reason: string; command: string; parked_at: Date }>(s.text, s.values);
      return res.rows.map((r) => ({ commandId: r.command_id, reason: r.reason, command: JSON.parse(r.command) as SinkCommand, parkedAt: r.parked_at }));
    } catch (err) {
      throw classifyPostgresError(err);
    }
  }

  async unpark(_table: TableConfig, commandIds: readonly string[]): Promise<void> {
    if (commandIds.length === 0) return;
    const s = pgUnpark(this.config.syncSchema, commandIds);
    try {
      await this.pool.query(s.text, s.values);
    } catch (err) {
      throw classifyPostgresError(err);
    }
  }

  private async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw classifyPostgresError(err);
    }
  }

  private async meta(table: TableConfig): Promise<PgTableMeta> {
    const id = metaId(table);
    const cached = this.metas.get(id);
    if (cached) return cached;
    try {
      const cols = await this.pool.query<{ name: string; type: string; identity: boolean }>(pgCatalogQuery, [qualified(table)]);
      if (cols.rows.length === 0) throw new SinkError('schema', `${qualified(table)} has no columns`);
      const seq = table.generatedKey && table.key.length === 1 ? await this.pool.query<{ seq: string | null }>(pgSequenceQuery, [qualified(table), table.key[0]]) : undefined;
      const trigger =
        table.capture.mode === 'trigger' ? await this.pool.query<{ self_logged: boolean }>(pgSelfLoggedTriggerQuery, [qualified(table), captureTriggerNames(table)]) : undefined;
      const keyIndexes = await this.pool.query<{ name: string }>(pgKeyIndexesQuery, [qualified(table), table.key]);
      const meta: PgTableMeta = {
        types: new Map(cols.rows.map((r) => [r.name, r.type])),
        hasIdentity: cols.rows.some((r) => r.identity),
        keySequence: seq?.rows[0]?.seq ?? null,
        selfLogged: trigger?.rows[0]?.self_logged === true,
        keyIndexes: keyIndexes.rows.map((r) => r.name),
      };
      this.metas.set(id, meta);
      return meta;
    } catch (err) {
      // A missing table (42P01 from the regclass cast) is a schema error: the entity is held.
      throw classifyPostgresError(err);
    }
  }
}

/** Every name a capture trigger of the table may have, at either trigger level. */
function captureTriggerNames(table: TableConfig): string[] {
  const names = changelogNames(table);
  return [names.trigger, ...Object.values(names.statementTriggers)];
}
