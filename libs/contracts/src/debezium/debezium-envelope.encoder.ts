import { ContractError } from '../contract-error';
import type { ChangeOp, Row } from '../change-event';
import { columnSemantic, semanticSchema, semanticTag, type CatalogColumn, type ColumnSemantic, type ConnectSchemaJson, type DebeziumDialect } from './connect-schema';
import { toDebeziumValue } from './debezium-values';
import { RawJson, writeJson } from './json-writer';

/**
 * The envelope version Debezium's source connectors write (io.debezium.data.Envelope) and the
 * Debezium release whose connectors the technical topics mimic; `source.version` names it.
 */
export const DEBEZIUM_VERSION = '3.0.7.Final';
const ENVELOPE_SCHEMA_VERSION = 2;

/** How the technical topics are written in Debezium mode (pipeline section `technicalTopics`). */
export interface DebeziumFormatOptions {
  /** Key and value as `{schema, payload}` (JsonConverter schemas.enable=true), else the payload alone. */
  readonly schemasEnable: boolean;
  /** A tombstone (same key, null value) after every delete, as Debezium's tombstones.on.delete. */
  readonly tombstonesOnDelete: boolean;
}

/** One table as the encoder needs it: names, key and the catalog's columns (in table order). */
export interface DebeziumTable {
  readonly dialect: DebeziumDialect;
  readonly system: string;
  /** The legacy database's name (`source.db`). */
  readonly database: string;
  readonly schema: string;
  readonly table: string;
  readonly key: readonly string[];
  readonly columns: readonly CatalogColumn[];
}

/** What a captured change gives the envelope besides its row images. */
export interface DebeziumChange {
  readonly op: ChangeOp;
  readonly before: Row | null;
  readonly after: Row | null;
  /** The suite's position of the change (changelog id, LSN:seq, CDC lsn:seqval:op, snapshot:…). */
  readonly position: string;
  readonly committedAt: string;
  readonly txId: string | null;
}

interface EncodedColumn {
  readonly name: string;
  readonly semantic: ColumnSemantic;
}

/** Debezium's logical server name (topic.prefix) for a system: the topics are `<prefix>.<schema>.<table>`. */
export function debeziumServerName(system: string): string {
  return `legacy.${system}`;
}

const NS_PER_MS = 1_000_000n;

const SURROGATE = /[\uD800-\uDFFF]/;
const PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;
const hex4 = (code: number): string => code.toString(16).toUpperCase().padStart(4, '0');

/**
 * The JsonConverter (Jackson) writes a character outside the Basic Multilingual Plane (an emoji)
 * as its escaped surrogate pair, JSON.stringify as the character itself: same JSON, other bytes.
 * Written as Jackson does, so a record is byte for byte what Connect itself would produce.
 */
function jacksonEscapes(text: string): string {
  return SURROGATE.test(text) ? text.replace(PAIR, (pair) => `\\u${hex4(pair.charCodeAt(0))}\\u${hex4(pair.charCodeAt(1))}`) : text;
}

function epochNanos(iso: string): bigint {
  const m = /\.(\d{1,9})/.exec(iso);
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return 0n;
  const wholeSeconds = BigInt(Math.floor(ms / 1000));
  return wholeSeconds * 1_000_000_000n + BigInt((m?.[1] ?? '').padEnd(9, '0'));
}

function int64Text(text: string | null): number | bigint | null {
  if (text === null || !/^\d+$/.test(text)) return null;
  const n = BigInt(text);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** `X/Y` (PostgreSQL's text form of an LSN, first part of a logical change id) as an int64. */
function pgLsn(position: string): number | bigint | null {
  const m = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})(?::|$)/i.exec(position);
  if (!m) return null;
  const n = (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** SQL Server's Lsn.toString form (8:8:4 hex digits) of a 10-byte LSN in hex. */
function mssqlLsnText(hex: string): string {
  return `${hex.slice(0, 8)}:${hex.slice(8, 16)}:${hex.slice(16, 20)}`.toLowerCase();
}

/**
 * Encodes one table's changes the way Debezium's PostgreSQL / SQL Server connector and Kafka
 * Connect's JsonConverter write them. Every schema (key, value, envelope) is built once here and
 * inserted as cached text; a row costs the conversion of its values and one JSON write.
 */
export class DebeziumEnvelopeEncoder {
  private readonly columns: readonly EncodedColumn[];
  private readonly keyColumns: readonly EncodedColumn[];
  private readonly known: ReadonlySet<string>;
  private readonly keySchema: RawJson;
  private readonly envelopeSchema: RawJson;
  private readonly serverName: string;
  /** Names as JSON string literals, quoted once. */
  private readonly quoted: { readonly server: string; readonly db: string; readonly schema: string; readonly table: string };
  /** `sync-columns` header (schemas.enable=false): what the decoder needs to restore native values. */
  readonly columnsHeader: string | undefined;

  constructor(
    readonly table: DebeziumTable,
    readonly options: DebeziumFormatOptions,
  ) {
    this.serverName = debeziumServerName(table.system);
    this.quoted = { server: JSON.stringify(this.serverName), db: JSON.stringify(table.database), schema: JSON.stringify(table.schema), table: JSON.stringify(table.table) };
    this.columns = table.columns.map((c) => ({ name: c.name, semantic: columnSemantic(table.dialect, c) }));
    this.known = new Set(this.columns.map((c) => c.name));
    const byName = new Map(this.columns.map((c) => [c.name, c]));
    const nullable = new Map(table.columns.map((c) => [c.name, c.nullable]));
    this.keyColumns = table.key.map((k) => {
      const column = byName.get(k);
      if (!column) throw new ContractError(`${table.system}.${table.schema}.${table.table}: key column ${k} is not in the table's catalog`);
      return column;
    });
    const prefix = `${this.serverName}.${table.schema}.${table.table}`;
    const field = (c: EncodedColumn, optional: boolean): ConnectSchemaJson => ({ ...semanticSchema(c.semantic, optional), field: c.name });
    this.keySchema = new RawJson(JSON.stringify({ type: 'struct', fields: this.keyColumns.map((c) => field(c, false)), optional: false, name: `${prefix}.Key` }));
    const valueSchema = (name: string): ConnectSchemaJson => ({
      type: 'struct',
      fields: this.columns.map((c) => field(c, nullable.get(c.name) ?? true)),
      optional: true,
      name: `${prefix}.Value`,
      field: name,
    });
    this.envelopeSchema = new RawJson(
      JSON.stringify({
        type: 'struct',
        fields: [
          valueSchema('before'),
          valueSchema('after'),
          { ...sourceSchema(table.dialect), field: 'source' },
          { ...TRANSACTION_SCHEMA, field: 'transaction' },
          { type: 'string', optional: false, field: 'op' },
          { type: 'int64', optional: true, field: 'ts_ms' },
          { type: 'int64', optional: true, field: 'ts_us' },
          { type: 'int64', optional: true, field: 'ts_ns' },
        ],
        optional: false,
        name: `${prefix}.Envelope`,
        version: ENVELOPE_SCHEMA_VERSION,
      }),
    );
    const tags = Object.fromEntries(this.columns.flatMap((c) => {
      const tag = semanticTag(c.semantic);
      return tag === undefined ? [] : [[c.name, tag]];
    }));
    this.columnsHeader = options.schemasEnable ? undefined : JSON.stringify(tags);
  }

  /** False when a row holds a column the catalog did not list (added since): read the catalog again. */
  knows(row: Row | null): boolean {
    if (row === null) return true;
    for (const column of Object.keys(row)) if (!this.known.has(column)) return false;
    return true;
  }

  /** The message key: the key columns as a struct. */
  key(keyRow: Row): string {
    const payload: Record<string, unknown> = {};
    for (const c of this.keyColumns) payload[c.name] = toDebeziumValue(keyRow[c.name], c.semantic, c.name);
    return jacksonEscapes(this.options.schemasEnable ? writeJson({ schema: this.keySchema, payload }) : writeJson(payload));
  }

  /** The message value of one change (op c, u, d or r) read at `nowMs`. */
  value(change: DebeziumChange, nowMs: number): string {
    // Written by template: the envelope's shape is fixed, and JSON.stringify of each image is far
    // cheaper than a generic writer (bigint values, rare, take the slow path in imageJson).
    const nowNs = BigInt(nowMs) * NS_PER_MS;
    const payload = `{"before":${this.imageJson(change.before)},"after":${this.imageJson(change.after)},"source":${this.sourceJson(change)},"transaction":null,"op":${JSON.stringify(change.op)},"ts_ms":${nowMs},"ts_us":${nowNs / 1000n},"ts_ns":${nowNs}}`;
    const text = jacksonEscapes(payload);
    return this.options.schemasEnable ? `{"schema":${this.envelopeSchema.text},"payload":${text}}` : text;
  }

  private imageJson(row: Row | null): string {
    if (row === null) return 'null';
    const out: Record<string, unknown> = {};
    let big = false;
    for (const c of this.columns) {
      const v = toDebeziumValue(row[c.name], c.semantic, c.name);
      if (typeof v === 'bigint') big = true;
      out[c.name] = v;
    }
    return big ? writeJson(out) : JSON.stringify(out);
  }

  /** The commit time of the last change, in ns: a batch or snapshot chunk shares one. */
  private lastCommit: { readonly at: string; readonly ns: bigint } | undefined;

  private sourceJson(change: DebeziumChange): string {
    if (this.lastCommit?.at !== change.committedAt) this.lastCommit = { at: change.committedAt, ns: epochNanos(change.committedAt) };
    const ns = this.lastCommit.ns;
    const head = `{"version":${JSON.stringify(DEBEZIUM_VERSION)},"connector":${this.table.dialect === 'postgres' ? '"postgresql"' : '"sqlserver"'},"name":${this.quoted.server},"ts_ms":${ns / NS_PER_MS},"snapshot":${change.op === 'r' ? '"true"' : '"false"'},"db":${this.quoted.db},"sequence":null,"ts_us":${ns / 1000n},"ts_ns":${ns},"schema":${this.quoted.schema},"table":${this.quoted.table}`;
    if (this.table.dialect === 'postgres') {
      return `${head},"txId":${writeJson(int64Text(change.txId))},"lsn":${writeJson(pgLsn(change.position))},"xmin":null}`;
    }
    // SQL Server CDC positions are `<start_lsn hex>:<seqval hex>:<operation>`.
    const cdc = /^([0-9a-f]{20}):([0-9a-f]{20}):\d$/i.exec(change.position);
    return cdc
      ? `${head},"change_lsn":${JSON.stringify(mssqlLsnText(cdc[2]!))},"commit_lsn":${JSON.stringify(mssqlLsnText(cdc[1]!))},"event_serial_no":1}`
      : `${head},"change_lsn":null,"commit_lsn":null,"event_serial_no":null}`;
  }
}

const SNAPSHOT_SCHEMA = {
  type: 'string',
  optional: true,
  name: 'io.debezium.data.Enum',
  version: 1,
  parameters: { allowed: 'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental' },
  default: 'false',
};

const TRANSACTION_SCHEMA = {
  type: 'struct',
  fields: [
    { type: 'string', optional: false, field: 'id' },
    { type: 'int64', optional: false, field: 'total_order' },
    { type: 'int64', optional: false, field: 'data_collection_order' },
  ],
  optional: true,
  name: 'event.block',
  version: 1,
};

function sourceSchema(dialect: DebeziumDialect): ConnectSchemaJson {
  const f = (type: string, optional: boolean, field: string): ConnectSchemaJson => ({ type, optional, field });
  const common = [
    f('string', false, 'version'),
    f('string', false, 'connector'),
    f('string', false, 'name'),
    f('int64', false, 'ts_ms'),
    { ...SNAPSHOT_SCHEMA, field: 'snapshot' },
    f('string', false, 'db'),
    f('string', true, 'sequence'),
    f('int64', true, 'ts_us'),
    f('int64', true, 'ts_ns'),
    f('string', false, 'schema'),
    f('string', false, 'table'),
  ];
  const own =
    dialect === 'postgres'
      ? [f('int64', true, 'txId'), f('int64', true, 'lsn'), f('int64', true, 'xmin')]
      : [f('string', true, 'change_lsn'), f('string', true, 'commit_lsn'), f('int64', true, 'event_serial_no')];
  return {
    type: 'struct',
    fields: [...common, ...own],
    optional: false,
    name: dialect === 'postgres' ? 'io.debezium.connector.postgresql.Source' : 'io.debezium.connector.sqlserver.Source',
    version: 1,
  };
}
