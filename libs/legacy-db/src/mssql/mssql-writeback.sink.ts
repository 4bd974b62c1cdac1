import sql from 'mssql';
import type { SystemConfig, TableConfig } from '@sync/config';
import type { Row } from '../core/capture-source.interface';
import { mssqlChangelogNames } from './mssql-changelog.ddl';
import type { MssqlLegacyDb } from './mssql.legacy-db';
import { explicitIdentityInsert, mssqlKeyedWrite } from './mssql-identity';
import { SinkError } from '../core/sink-error';
import { classifyMssqlError } from './mssql-sink-error';
import { assertKnownColumns, metaId, withMetadataRefresh } from '../core/sink-metadata';
import type { PendingCommand } from '../core/sink-results';
import { applyBatchInTransaction } from '../core/apply-batch';
import { byColumnSet, chunk, keyString, keyValue, validateCommand, type KeyedCommand } from '../core/writeback-plan';
import { referencingKeys, tsqlKeyMovePlan, tsqlReferencingKeys, tsqlRowExists, tsqlWritableColumns } from './mssql-key-move';
import {
  MSSQL_MAX_PARAMS,
  MSSQL_MAX_ROWS,
  tableName,
  tsqlCatalog,
  tsqlConflicts,
  tsqlDelete,
  tsqlInboxInsert,
  tsqlInboxLookup,
  tsqlInsertGenerated,
  tsqlKeyedUpsert,
  tsqlLockRows,
  tsqlMerge,
  tsqlPark,
  tsqlParked,
  tsqlUnpark,
  tsqlSetOrigin,
  tsqlUpdate,
  type TsqlStatement,
} from './mssql-writeback.sql';
import type { LegacyVersion, ParkedCommand, SinkCommand, SinkResult, WritebackSink } from '../core/writeback-sink.interface';

/** Every statement builder of the SQL Server sink, for unit tests and review. */
export const mssqlWritebackStatements = {
  setOrigin: tsqlSetOrigin,
  inboxLookup: tsqlInboxLookup,
  lockRows: tsqlLockRows,
  conflicts: tsqlConflicts,
  delete: tsqlDelete,
  merge: tsqlMerge,
  update: tsqlUpdate,
  keyedUpsert: tsqlKeyedUpsert,
  insertGenerated: tsqlInsertGenerated,
  inboxInsert: tsqlInboxInsert,
  park: tsqlPark,
  parked: tsqlParked,
  unpark: tsqlUnpark,
  catalog: tsqlCatalog,
} as const;

interface TableMeta {
  readonly columns: ReadonlySet<string>;
  /** The table's IDENTITY column, if it has one. */
  readonly identityColumn: string | undefined;
}

function rowsPerStatement(paramsPerRow: number): number {
  return Math.min(MSSQL_MAX_ROWS, Math.max(1, Math.floor(MSSQL_MAX_PARAMS / Math.max(1, paramsPerRow))));
}

/**
 * SQL Server write-back: one transaction per batch; MERGE … WITH (HOLDLOCK) for upserts, keys the
 * database generates reported through MERGE … OUTPUT; inbox row and SESSION_CONTEXT origin in the
 * same transaction. Explicit values for an IDENTITY key only where the table says
 * `identityInsert: true` (SET IDENTITY_INSERT); otherwise such a key can only address an existing
 * row (see mssqlKeyedWrite).
 */
export class MssqlWritebackSink implements WritebackSink {
  readonly system: string;
  private readonly metas = new Map<string, TableMeta>();

  constructor(private readonly db: MssqlLegacyDb, private readonly config: SystemConfig) {
    this.system = config.name;
  }

  /**
   * Applies one batch; a schema error (or a synced column the cached metadata does not know)
   * refreshes the table's metadata once and retries (see PostgresWritebackSink.applyBatch).
   */
  async applyBatch(table: TableConfig, commands: readonly SinkCommand[]): Promise<SinkResult[]> {
    for (const c of commands) validateCommand(table, c);
    return withMetadataRefresh(
      () => this.metas.delete(metaId(table)),
      () => this.applyOnce(table, commands),
    );
  }

  private async applyOnce(table: TableConfig, commands: readonly SinkCommand[]): Promise<SinkResult[]> {
    let tx: sql.Transaction | undefined;
    try {
      const pool = await this.db.connected();
      const meta = await this.meta(pool, table);
      // SQL Server compares column names case-insensitively (default collations).
      const known = new Set([...meta.columns].map((c) => c.toLowerCase()));
      assertKnownColumns(table, commands, (column) => known.has(column.toLowerCase()));
      tx = new sql.Transaction(pool);
      await tx.begin(sql.ISOLATION_LEVEL.READ_COMMITTED);
      const results = await this.applyInTransaction(tx, table, meta, commands);
      await tx.commit();
      return results;
    } catch (err) {
      if (tx) await tx.rollback().catch(() => undefined);
      throw classifyMssqlError(err);
    }
  }

  private async run<R>(tx: sql.Transaction, s: TsqlStatement): Promise<R[]> {
    const request = new sql.Request(tx);
    for (const p of s.params) request.input(p.name, p.value);
    const res = await request.query<R>(s.text);
    return (res.recordset ?? []) as R[];
  }

  /** The batch algorithm is core's (applyBatchInTransaction); these are SQL Server's statements for it. */
  private applyInTransaction(tx: sql.Transaction, table: TableConfig, meta: TableMeta, commands: readonly SinkCommand[]): Promise<SinkResult[]> {
    const mode = mssqlKeyedWrite(table, meta.identityColumn);
    return applyBatchInTransaction(table, commands, {
      recorded: async (ids) => {
        const recorded = new Map<string, { outcome: string; result: string | null }>();
        for (const part of chunk(ids, 1, MSSQL_MAX_PARAMS)) {
          for (const r of await this.run<{ command_id: string; outcome: string; result: string | null }>(tx, tsqlInboxLookup(this.config.syncSchema, part))) recorded.set(r.command_id, r);
        }
        return recorded;
      },
      lockExisting: async (keys) => {
        const existing = new Set<string>();
        for (const part of chunk(keys, table.key.length, rowsPerStatement(table.key.length) * table.key.length)) {
          for (const r of await this.run<Record<string, string | null>>(tx, tsqlLockRows(table, part))) {
            existing.add(JSON.stringify(table.key.map((_, i) => r[`k${i}`] ?? null)));
          }
        }
        return existing;
      },
      conflicts: (keyed) => this.conflicts(tx, table, keyed),
      generatedKeys: 'after',
      // Generated-key inserts in input order, per column set; MERGE … OUTPUT reports the keys.
      insertGenerated: async (inserts) => {
        const groups = new Map<string, PendingCommand[]>();
        for (const p of inserts) {
          const id = Object.keys(p.command.columns).sort().join('\u0000');
          groups.set(id, [...(groups.get(id) ?? []), p]);
        }
        for (const group of groups.values()) {
          const columns = Object.keys(group[0]!.command.columns).sort();
          for (const part of chunk(group, columns.length + 1, rowsPerStatement(columns.length + 1) * (columns.length + 1))) {
            const out = await this.run<{ ord: number; k: string }>(tx, tsqlInsertGenerated(table, columns, part.map((p) => p.command.columns)));
            for (const r of out) part[r.ord]!.generatedKey = { [table.key[0]!]: keyValue(r.k) };
          }
        }
      },
      inbox: 'after',
      recordInbox: async (rows) => {
        for (const part of chunk(rows, 6, rowsPerStatement(6) * 6)) await this.run(tx, tsqlInboxInsert(this.config.syncSchema, table, part));
      },
      // Before writing anything: the batch fails as a whole and the runner isolates the command.
      check: (runs, existing) => {
        if (mode !== 'update-existing') return;
        const refused = explicitIdentityInsert(table, meta.identityColumn!, runs, existing);
        if (refused) throw refused;
      },
      setOrigin: async (origin) => {
        await this.run(tx, tsqlSetOrigin(origin));
      },
      moveRow: (item, existing) => this.moveRow(tx, table, meta, item, existing),
      writeRun: async (folded) => {
        for (const keys of chunk(folded.deletes, table.key.length, rowsPerStatement(table.key.length) * table.key.length)) await this.run(tx, tsqlDelete(table, keys));
        for (const group of byColumnSet(table, folded.upserts)) {
          const perRow = table.key.length + group.columns.length;
          for (const rows of chunk(group.rows, perRow, rowsPerStatement(perRow) * perRow)) {
            const statement = tsqlKeyedUpsert(table, mode, group.columns, rows);
            if (statement) await this.run(tx, statement);
          }
        }
      },
    });
  }

  /**
   * Moves a row to the new primary key the new side gave it, as the PostgreSQL sink does
   * (docs/primary-key-updates.md). An identity key cannot be changed by SQL Server: refused.
   */
  private async moveRow(tx: sql.Transaction, table: TableConfig, meta: TableMeta, item: KeyedCommand, existing: Set<string>): Promise<void> {
    const from = item.command.key;
    const to = item.command.newKey!;
    const fromId = keyString(table, from);
    if (!existing.has(fromId)) return;
    const ref = tableName(table);
    if (meta.identityColumn !== undefined && table.key.includes(meta.identityColumn)) {
      throw new SinkError('data', `command ${item.command.commandId}: ${ref} has an identity key (${meta.identityColumn}); SQL Server cannot change it`);
    }
    if ((await this.run(tx, tsqlRowExists(table, to))).length > 0) {
      throw new SinkError('data', `command ${item.command.commandId}: cannot move ${ref} ${JSON.stringify(from)} to ${JSON.stringify(to)}: a row with that key exists`);
    }
    const fks = referencingKeys(table, await this.run(tx, tsqlReferencingKeys(table)));
    const writable = fks.every((fk) => fk.onUpdate === 1) ? [] : (await this.run<{ name: string }>(tx, tsqlWritableColumns(table))).map((r) => r.name);
    for (const statement of tsqlKeyMovePlan(table, fks, writable, from, to)) await this.run(tx, statement);
    existing.delete(fromId);
    existing.add(keyString(table, to));
  }

  private async conflicts(tx: sql.Transaction, table: TableConfig, keyed: readonly PendingCommand[]): Promise<Map<number, LegacyVersion>> {
    const out = new Map<number, LegacyVersion>();
    if (table.capture.mode !== 'trigger') return out;
    const changelog = mssqlChangelogNames(this.config.syncSchema, table).changelog;
    const probes = keyed
      .filter((p) => p.command.basedOn !== undefined && /^\d+$/.test(p.command.basedOn))
      .map((p) => ({ index: p.index, basedOn: p.command.basedOn!, key: p.command.key }));
    const perRow = 2 + table.key.length;
    for (const part of chunk(probes, perRow, rowsPerStatement(perRow) * perRow)) {
      const rows = await this.run<{ i: number; position: string; op: 'c' | 'u' | 'd'; changed_at: Date; after: string | null }>(tx, tsqlConflicts(table, changelog, part));
      for (const r of rows) {
        // datetime2 from SYSUTCDATETIME() is read by the driver as UTC.
        out.set(r.i, { position: r.position, op: r.op, changedAt: r.changed_at.toISOString(), row: r.after === null ? null : (JSON.parse(r.after) as Row) });
      }
    }
    return out;
  }

  async park(table: TableConfig, command: SinkCommand, reason: string): Promise<void> {
    try {
      const pool = await this.db.connected();
      const s = tsqlPark(this.config.syncSchema, table, command.commandId, command.globalId, command, reason);
      const request = pool.request();
      for (const p of s.params) request.input(p.name, p.value);
      await request.query(s.text);
    } catch (err) {
      throw classifyMssqlError(err);
    }
  }

  async parked(table: TableConfig): Promise<ParkedCommand[]> {
    try {
      const pool = await this.db.connected();
      const s = tsqlParked(this.config.syncSchema, table);
      const request = pool.request();
      for (const p of s.params) request.input(p.name, p.value);
      const res = await request.query<{ command_id: string; reason: string; command: string; parked_at: Date }>(s.text);
      // datetime2 from SYSUTCDATETIME() is read by the driver as UTC.
      return res.recordset.map((r) => ({ commandId: r.command_id, reason: r.reason, command: JSON.parse(r.command) as SinkCommand, parkedAt: r.parked_at }));
    } catch (err) {
      throw classifyMssqlError(err);
    }
  }

  async unpark(_table: TableConfig, commandIds: readonly string[]): Promise<void> {
    try {
      const pool = await this.db.connected();
      // One statement per chunk: SQL Server takes at most 2,100 parameters.
      for (const part of chunk(commandIds, 1, 2_000)) {
        const s = tsqlUnpark(this.config.syncSchema, part);
        const request = pool.request();
        for (const p of s.params) request.input(p.name, p.value);
        await request.query(s.text);
      }
    } catch (err) {
      throw classifyMssqlError(err);
    }
  }

  private async meta(pool: sql.ConnectionPool, table: TableConfig): Promise<TableMeta> {
    const id = metaId(table);
    const cached = this.metas.get(id);
    if (cached) return cached;
    const s = tsqlCatalog(table);
    const request = pool.request();
    for (const p of s.params) request.input(p.name, p.value);
    const res = await request.query<{ name: string; is_identity: boolean }>(s.text);
    if (res.recordset.length === 0) throw new SinkError('schema', `${tableName(table)} does not exist or has no columns`);
    const meta: TableMeta = { columns: new Set(res.recordset.map((r) => r.name)), identityColumn: res.recordset.find((r) => r.is_identity)?.name };
    this.metas.set(id, meta);
    return meta;
  }
}
