import type { Dialect, TableConfig, TechnicalTopicsConfig } from '@sync/config';
import { ChangeHeaders, DebeziumEnvelopeEncoder, Headers, legacyOrigin, RekeyHeaders, Topics, type ChangeOp, type Row } from '@sync/contracts';
import type { CapturedChange, TableDescription } from '@sync/legacy-db';
import { DataError, errorKind } from '@sync/errors';
import type { OutboundRecord } from '@sync/kafka';
import { changeEventId, changeRecords, keyMove, keyOf, snapshotRecords, type SnapshotRecord } from './change-record.builder';

/** A record of a change, with the key row it is published under (a primary-key update gives several). */
export interface KeyedRecord {
  readonly record: OutboundRecord;
  readonly key: Row;
}

/**
 * How legacy-import writes one table's technical topic: the native envelope, or Debezium's
 * (technicalTopics.format, docs/debezium-compatibility.md). `prepare` runs before a batch is
 * encoded and loads what the encoding needs; the encoding itself is synchronous and pure.
 */
export interface TechnicalRecordEncoder {
  prepare(rows: ReadonlyArray<Row | null>): Promise<void>;
  changeRecords(change: CapturedChange, now: number): KeyedRecord[];
  snapshotRecords(snapshotId: string, rows: readonly Row[], now: number): SnapshotRecord[];
}

/** Today's format: the suite's own envelope (change-record.builder.ts). */
export class NativeRecordEncoder implements TechnicalRecordEncoder {
  constructor(private readonly table: TableConfig) {}

  prepare(): Promise<void> {
    return Promise.resolve();
  }

  changeRecords(change: CapturedChange, now: number): KeyedRecord[] {
    const records = changeRecords(this.table, change, now);
    const key = keyOf(this.table, change.after ?? change.before ?? {});
    return records.map((record) => ({ record, key: records.length === 1 ? key : (JSON.parse(String(record.key)) as Row) }));
  }

  snapshotRecords(snapshotId: string, rows: readonly Row[], now: number): SnapshotRecord[] {
    return snapshotRecords(this.table, snapshotId, rows, now);
  }
}

/** Reads a table's catalog (describeTable of @sync/legacy-db). */
export type DescribeTable = () => Promise<TableDescription | undefined>;

interface Piece {
  readonly op: ChangeOp;
  readonly before: Row | null;
  readonly after: Row | null;
  readonly key: Row;
  readonly eventId: string;
  readonly extraHeaders: Record<string, string>;
}

/**
 * Debezium's format: key struct and envelope as Debezium's connector and JsonConverter write
 * them, a tombstone after each delete, a primary-key update as delete + tombstone + create with
 * the __debezium.oldkey/newkey headers. The schemas come from the table's catalog, read once
 * (again when a row shows a column it did not list); what the native source block carried
 * (position, commit time as text, transaction id) travels in headers (ChangeHeaders).
 */
export class DebeziumRecordEncoder implements TechnicalRecordEncoder {
  private encoder: DebeziumEnvelopeEncoder | undefined;
  private readonly topic: string;
  private readonly origin: string;

  constructor(
    private readonly table: TableConfig,
    private readonly dialect: Dialect,
    private readonly describe: DescribeTable,
    private readonly options: TechnicalTopicsConfig,
  ) {
    this.topic = Topics.legacy({ system: table.system, schema: table.schema, table: table.name });
    this.origin = legacyOrigin(table.system);
  }

  async prepare(rows: ReadonlyArray<Row | null>): Promise<void> {
    const current = this.encoder;
    if (current && rows.every((r) => current.knows(r))) return;
    const described = await this.describe();
    const name = `${this.table.system}.${this.table.schema}.${this.table.name}`;
    // The capture reads the same table: it is gone or renamed; retried like any schema problem.
    if (!described) throw new Error(`${name}: table not found in the catalog (Debezium format needs its column types)`);
    this.encoder = new DebeziumEnvelopeEncoder(
      {
        dialect: this.dialect,
        system: this.table.system,
        database: described.database,
        schema: this.table.schema,
        table: this.table.name,
        key: this.table.key,
        // Every column, as the native envelope carries every column of the row image.
        columns: described.columns,
      },
      { schemasEnable: this.options.schemasEnable, tombstonesOnDelete: this.options.tombstonesOnDelete },
    );
  }

  private ready(): DebeziumEnvelopeEncoder {
    if (!this.encoder) throw new Error('DebeziumRecordEncoder: prepare() was not awaited before encoding');
    return this.encoder;
  }

  changeRecords(change: CapturedChange, now: number): KeyedRecord[] {
    const eventId = changeEventId(this.table, change.changeId);
    const move = keyMove(this.table, change);
    const pieces: Piece[] = move
      ? [
          { op: 'd', before: change.before, after: null, key: move.from, eventId: `${eventId}:old-key`, extraHeaders: { [RekeyHeaders.newKey]: JSON.stringify(move.to) } },
          { op: 'c', before: null, after: change.after, key: move.to, eventId, extraHeaders: { [RekeyHeaders.oldKey]: JSON.stringify(move.from) } },
        ]
      : [{ op: change.op, before: change.before, after: change.after, key: keyOf(this.table, change.after ?? change.before ?? {}), eventId, extraHeaders: {} }];
    return pieces.flatMap((p) => this.records(p, change.changeId, change.committedAt, change.txId, now));
  }

  snapshotRecords(snapshotId: string, rows: readonly Row[], now: number): SnapshotRecord[] {
    const committedAt = new Date(now).toISOString();
    return rows.map((row) => {
      const key = keyOf(this.table, row);
      const position = `snapshot:${snapshotId}:${JSON.stringify(key)}`;
      const eventId = changeEventId(this.table, position);
      const [keyed] = this.records({ op: 'r', before: null, after: row, key, eventId, extraHeaders: {} }, position, committedAt, null, now);
      return { record: keyed!.record, position, key };
    });
  }

  private records(p: Piece, position: string, committedAt: string, txId: string | null, now: number): KeyedRecord[] {
    const encoder = this.ready();
    let key: string;
    let value: string;
    try {
      key = encoder.key(p.key);
      value = encoder.value({ op: p.op, before: p.before, after: p.after, position, committedAt, txId }, now);
    } catch (err) {
      if (errorKind(err) === 'data') throw new DataError(`${p.eventId}: the change cannot be encoded for Debezium: ${(err as Error).message}`, { cause: err });
      throw err;
    }
    const headers: Record<string, string> = {
      [Headers.eventId]: p.eventId,
      [Headers.origin]: this.origin,
      [Headers.causationId]: p.eventId,
      [ChangeHeaders.position]: position,
      [ChangeHeaders.committedAt]: committedAt,
      ...(txId !== null && { [ChangeHeaders.txId]: txId }),
      ...(encoder.columnsHeader !== undefined && { [ChangeHeaders.columns]: encoder.columnsHeader }),
      ...p.extraHeaders,
    };
    const out: KeyedRecord[] = [{ record: { topic: this.topic, key, value, headers }, key: p.key }];
    if (p.op === 'd' && this.options.tombstonesOnDelete) {
      const id = `${p.eventId}:tombstone`;
      out.push({ record: { topic: this.topic, key, value: null, headers: { ...headers, [Headers.eventId]: id, [Headers.causationId]: id } }, key: p.key });
    }
    return out;
  }
}

/** The encoder the pipeline's technicalTopics section asks for. */
export function technicalRecordEncoder(table: TableConfig, dialect: Dialect, describe: DescribeTable, options: TechnicalTopicsConfig): TechnicalRecordEncoder {
  return options.format === 'debezium' ? new DebeziumRecordEncoder(table, dialect, describe, options) : new NativeRecordEncoder(table);
}
