/**
 * Kafka Connect schemas as Debezium's connectors declare them for a table's columns (defaults:
 * decimal.handling.mode=precise, time.precision.mode=adaptive, binary.handling.mode=bytes), and
 * as the JsonConverter writes them with schemas.enable=true: `type`, then a struct's `fields`,
 * `optional`, `name`, `version`, `doc`, `parameters`, `default`, and `field` for a struct member.
 */

/** The legacy dialects whose Debezium connector the technical topics can mimic. */
export type DebeziumDialect = 'postgres' | 'mssql';

/** One column of a legacy table as the database's catalog describes it. */
export interface CatalogColumn {
  readonly name: string;
  /** The catalog's type name (PostgreSQL udt_name, SQL Server sys.types name). */
  readonly type: string;
  readonly nullable: boolean;
  /** numeric/decimal precision; null when unconstrained or not numeric. */
  readonly precision?: number | null;
  /** numeric/decimal scale, or fractional-second digits of a time type; null when unknown. */
  readonly scale?: number | null;
}

/** How a column's values travel in Debezium mode (the Connect type and its semantic name). */
export type ColumnSemantic =
  | { readonly kind: 'boolean' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'bytes' | 'string' }
  | { readonly kind: 'named-string'; readonly name: string }
  | { readonly kind: 'zoned-timestamp'; readonly fraction: number | null }
  | { readonly kind: 'decimal'; readonly scale: number; readonly precision: number | null }
  | { readonly kind: 'variable-decimal' }
  | { readonly kind: 'date' | 'timestamp' | 'micro-timestamp' | 'nano-timestamp' | 'time' | 'micro-time' | 'nano-time' };

export const SemanticNames = {
  decimal: 'org.apache.kafka.connect.data.Decimal',
  variableDecimal: 'io.debezium.data.VariableScaleDecimal',
  uuid: 'io.debezium.data.Uuid',
  json: 'io.debezium.data.Json',
  xml: 'io.debezium.data.Xml',
  date: 'io.debezium.time.Date',
  timestamp: 'io.debezium.time.Timestamp',
  microTimestamp: 'io.debezium.time.MicroTimestamp',
  nanoTimestamp: 'io.debezium.time.NanoTimestamp',
  zonedTimestamp: 'io.debezium.time.ZonedTimestamp',
  zonedTime: 'io.debezium.time.ZonedTime',
  time: 'io.debezium.time.Time',
  microTime: 'io.debezium.time.MicroTime',
  nanoTime: 'io.debezium.time.NanoTime',
} as const;

const PG_PLAIN: Readonly<Record<string, ColumnSemantic['kind']>> = {
  bool: 'boolean',
  int2: 'int16',
  int4: 'int32',
  int8: 'int64',
  oid: 'int64',
  float4: 'float32',
  float8: 'float64',
  bytea: 'bytes',
};

const PG_NAMED: Readonly<Record<string, string>> = {
  uuid: SemanticNames.uuid,
  json: SemanticNames.json,
  jsonb: SemanticNames.json,
  xml: SemanticNames.xml,
  timetz: SemanticNames.zonedTime,
};

const MSSQL_PLAIN: Readonly<Record<string, ColumnSemantic['kind']>> = {
  bit: 'boolean',
  tinyint: 'int16',
  smallint: 'int16',
  int: 'int32',
  bigint: 'int64',
  real: 'float32',
  float: 'float64',
  binary: 'bytes',
  varbinary: 'bytes',
  image: 'bytes',
  timestamp: 'bytes',
  rowversion: 'bytes',
};

/** adaptive time.precision.mode: milli-, micro- or nanosecond integers by the column's precision. */
function adaptive(precision: number, milli: ColumnSemantic, micro: ColumnSemantic, nano: ColumnSemantic): ColumnSemantic {
  return precision <= 3 ? milli : precision <= 6 ? micro : nano;
}

const of = (kind: 'date' | 'timestamp' | 'micro-timestamp' | 'nano-timestamp' | 'time' | 'micro-time' | 'nano-time'): ColumnSemantic => ({ kind });

/** The Debezium representation of a column, by dialect and catalog type (unknown types travel as strings). */
export function columnSemantic(dialect: DebeziumDialect, column: CatalogColumn): ColumnSemantic {
  const type = column.type.toLowerCase();
  const scale = column.scale ?? null;
  if (dialect === 'postgres') {
    const plain = PG_PLAIN[type];
    if (plain) return { kind: plain } as ColumnSemantic;
    const named = PG_NAMED[type];
    if (named) return { kind: 'named-string', name: named };
    switch (type) {
      case 'numeric':
      case 'decimal':
        return column.precision != null && column.precision > 0 && scale !== null ? { kind: 'decimal', scale, precision: column.precision } : { kind: 'variable-decimal' };
      case 'money':
        // PostgreSQL's capture gets money as text formatted by lc_monetary ("$1,234.56", "1.234,56 €"),
        // which no Decimal can be read from safely: it travels as that text (docs/debezium-compatibility.md).
        return { kind: 'string' };
      case 'date':
        return of('date');
      case 'timestamp':
        return adaptive(scale ?? 6, of('timestamp'), of('micro-timestamp'), of('micro-timestamp'));
      case 'timestamptz':
        return { kind: 'zoned-timestamp', fraction: scale };
      case 'time':
        return adaptive(scale ?? 6, of('time'), of('micro-time'), of('micro-time'));
      default:
        return { kind: 'string' };
    }
  }
  const plain = MSSQL_PLAIN[type];
  if (plain) return { kind: plain } as ColumnSemantic;
  switch (type) {
    case 'decimal':
    case 'numeric':
      return { kind: 'decimal', scale: scale ?? 0, precision: column.precision ?? null };
    case 'money':
      return { kind: 'decimal', scale: 4, precision: 19 };
    case 'smallmoney':
      return { kind: 'decimal', scale: 4, precision: 10 };
    case 'date':
      return of('date');
    case 'datetime':
    case 'smalldatetime':
      return of('timestamp');
    case 'datetime2':
      return adaptive(scale ?? 7, of('timestamp'), of('micro-timestamp'), of('nano-timestamp'));
    case 'time':
      return adaptive(scale ?? 7, of('time'), of('micro-time'), of('nano-time'));
    case 'datetimeoffset':
      return { kind: 'zoned-timestamp', fraction: scale };
    default:
      return { kind: 'string' };
  }
}

/** A Connect schema in the JsonConverter's JSON form (key order as it writes them). */
export type ConnectSchemaJson = Record<string, unknown>;

function named(type: string, name: string, optional: boolean, extra: Record<string, unknown> = {}): ConnectSchemaJson {
  return { type, optional, name, version: 1, ...extra };
}

/** The Connect schema of one column (without the `field` member). */
export function semanticSchema(semantic: ColumnSemantic, optional: boolean): ConnectSchemaJson {
  switch (semantic.kind) {
    case 'boolean':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'bytes':
    case 'string':
      return { type: semantic.kind, optional };
    case 'float32':
      return { type: 'float', optional };
    case 'float64':
      return { type: 'double', optional };
    case 'named-string':
      return named('string', semantic.name, optional);
    case 'zoned-timestamp':
      return named('string', SemanticNames.zonedTimestamp, optional);
    case 'decimal': {
      const parameters: Record<string, string> = { scale: String(semantic.scale) };
      if (semantic.precision !== null) parameters['connect.decimal.precision'] = String(semantic.precision);
      return named('bytes', SemanticNames.decimal, optional, { parameters });
    }
    case 'variable-decimal':
      return {
        type: 'struct',
        fields: [
          { type: 'int32', optional: false, field: 'scale' },
          { type: 'bytes', optional: false, field: 'value' },
        ],
        optional,
        name: SemanticNames.variableDecimal,
        version: 1,
        doc: 'Variable scaled decimal',
      };
    case 'date':
      return named('int32', SemanticNames.date, optional);
    case 'timestamp':
      return named('int64', SemanticNames.timestamp, optional);
    case 'micro-timestamp':
      return named('int64', SemanticNames.microTimestamp, optional);
    case 'nano-timestamp':
      return named('int64', SemanticNames.nanoTimestamp, optional);
    case 'time':
      return named('int32', SemanticNames.time, optional);
    case 'micro-time':
      return named('int64', SemanticNames.microTime, optional);
    case 'nano-time':
      return named('int64', SemanticNames.nanoTime, optional);
    default: {
      const never: never = semantic;
      return never;
    }
  }
}

/** Reads a column's semantic back from its Connect schema JSON (the decoder's side). */
export function semanticOfSchema(schema: Record<string, unknown>): ColumnSemantic {
  const name = typeof schema['name'] === 'string' ? schema['name'] : undefined;
  const parameters = (schema['parameters'] ?? {}) as Record<string, unknown>;
  switch (name) {
    case SemanticNames.decimal:
      return { kind: 'decimal', scale: Number(parameters['scale'] ?? 0), precision: null };
    case SemanticNames.variableDecimal:
      return { kind: 'variable-decimal' };
    case SemanticNames.date:
      return of('date');
    case SemanticNames.timestamp:
      return of('timestamp');
    case SemanticNames.microTimestamp:
      return of('micro-timestamp');
    case SemanticNames.nanoTimestamp:
      return of('nano-timestamp');
    case SemanticNames.time:
      return of('time');
    case SemanticNames.microTime:
      return of('micro-time');
    case SemanticNames.nanoTime:
      return of('nano-time');
    case SemanticNames.zonedTimestamp:
      return { kind: 'zoned-timestamp', fraction: null };
    case undefined:
      break;
    default:
      return { kind: 'named-string', name };
  }
  switch (schema['type']) {
    case 'boolean':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'bytes':
      return { kind: schema['type'] };
    case 'int8':
      return { kind: 'int16' };
    case 'float':
      return { kind: 'float32' };
    case 'double':
      return { kind: 'float64' };
    default:
      return { kind: 'string' };
  }
}

/**
 * Compact text of a semantic for the `sync-columns` header (schemas.enable=false): only what the
 * decoder needs to give values back their native form; undefined when the value needs nothing.
 */
export function semanticTag(semantic: ColumnSemantic): string | undefined {
  switch (semantic.kind) {
    case 'decimal':
      return `decimal:${semantic.scale}`;
    case 'variable-decimal':
    case 'date':
    case 'timestamp':
    case 'micro-timestamp':
    case 'nano-timestamp':
    case 'time':
    case 'micro-time':
    case 'nano-time':
      return semantic.kind;
    case 'named-string':
      return semantic.name === SemanticNames.json ? 'json' : undefined;
    case 'boolean':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'float32':
    case 'float64':
    case 'bytes':
    case 'string':
    case 'zoned-timestamp':
      // Their Debezium values are their native values (ZonedTimestamp: the same instant in UTC).
      return undefined;
    default: {
      const never: never = semantic;
      return never;
    }
  }
}

/** The semantic a `sync-columns` tag stands for; undefined for an unknown tag. */
export function semanticOfTag(tag: string): ColumnSemantic | undefined {
  if (tag.startsWith('decimal:')) {
    const scale = Number(tag.slice('decimal:'.length));
    return Number.isInteger(scale) && scale >= 0 ? { kind: 'decimal', scale, precision: null } : undefined;
  }
  switch (tag) {
    case 'variable-decimal':
    case 'date':
    case 'timestamp':
    case 'micro-timestamp':
    case 'nano-timestamp':
    case 'time':
    case 'micro-time':
    case 'nano-time':
      return { kind: tag };
    case 'json':
      return { kind: 'named-string', name: SemanticNames.json };
    default:
      return undefined;
  }
}
