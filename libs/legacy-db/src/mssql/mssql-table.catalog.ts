import { DataError } from '@sync/errors';
import type { TableConfig } from '@sync/config';
import type { MssqlLegacyDb } from './mssql.legacy-db';
import type { Row, SchemaProblem } from '../core/capture-source.interface';
import { type MssqlParam, type MssqlParamType, type MssqlStatement, qi, runMssql } from './mssql-statement';
import { missingColumnsMessage, requiredColumns } from '../core/required-columns';
import { normaliseRow, parseExactJson, valueKind, type ValueKind } from '../core/value-normalizer';

/** A row as one JSON object: FOR JSON keeps decimals exact, binary as base64, offsets on datetimeoffset. */
export const MSSQL_ROW_JSON = 'FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES';

export interface MssqlColumnType {
  readonly kind: ValueKind;
  /** SQL Server type name, lower case (INFORMATION_SCHEMA.COLUMNS.DATA_TYPE). */
  readonly type: string;
}

/** The parameter for a key value as it appears in a normalised row (the keyset after a snapshot chunk). */
export function keyParam(name: string, column: MssqlColumnType | undefined, value: unknown): MssqlParam {
  if (value === null || value === undefined) return { name, type: 'nvarchar', value: null };
  switch (column?.kind) {
    case 'binary':
      return { name, type: 'varbinary', value: Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'base64') };
    case 'bool':
      return { name, type: 'bit', value: value === true || value === 1 || value === '1' };
    case 'int':
      return { name, type: 'int', value: Number(value) };
    case 'bigint':
      return { name, type: 'bigint', value: String(value) };
    case 'float':
      return { name, type: 'float', value: Number(value) };
    case 'decimal':
    case 'timestamp':
    case 'timestamptz':
    case 'date':
    case 'json':
    case 'text':
    case undefined: {
      // Decimals, dates and text travel as strings and convert to the column's type on the server
      // (the column has the higher type precedence, so it is the parameter that converts and an
      // index on the key can still be used); varchar keys get varchar to keep that true.
      const type: MssqlParamType = column?.type === 'varchar' || column?.type === 'char' ? 'varchar' : 'nvarchar';
      return { name, type, value: String(value) };
    }
  }
}

/** Statements of the table catalog, as pure functions of the table configuration. */
export function mssqlCatalogQueries(table: TableConfig) {
  const base = `${qi(table.schema)}.${qi(table.name)}`;
  const keyCols = table.key.map((k) => `t.${qi(k)}`);
  return {
    columns: (): MssqlStatement => ({
      text: 'SELECT COLUMN_NAME AS column_name, DATA_TYPE AS data_type FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = @schema AND TABLE_NAME = @table',
      params: [
        { name: 'schema', type: 'nvarchar', value: table.schema },
        { name: 'table', type: 'nvarchar', value: table.name },
      ],
    }),
    /**
     * Keyset pagination. SQL Server has no row-value comparison, so (k1, k2) > (a, b) is spelled
     * out as (k1 > a) OR (k1 = a AND k2 > b).
     */
    snapshotChunk: (afterKey: Row | null, limit: number, columns: ReadonlyMap<string, MssqlColumnType>): MssqlStatement => {
      const params: MssqlParam[] = [{ name: 'limit', type: 'int', value: limit }];
      let where = '';
      if (afterKey) {
        table.key.forEach((k, i) => params.push(keyParam(`k${i}`, columns.get(k), afterKey[k])));
        const branches = table.key.map((_, i) => {
          const equal = keyCols.slice(0, i).map((c, j) => `${c} = @k${j}`);
          return `(${[...equal, `${keyCols[i]} > @k${i}`].join(' AND ')})`;
        });
        where = ` WHERE ${branches.join(' OR ')}`;
      }
      return {
        text: `SELECT TOP (@limit) (SELECT t.* ${MSSQL_ROW_JSON}) AS [row] FROM ${base} AS t${where} ORDER BY ${keyCols.join(', ')}`,
        params,
      };
    },
    rowCount: (): MssqlStatement => ({ text: `SELECT COUNT_BIG(*) AS n FROM ${base}`, params: [] }),
    currentRow: (key: Row, columns: ReadonlyMap<string, MssqlColumnType>): MssqlStatement => ({
      text: `SELECT (SELECT t.* ${MSSQL_ROW_JSON}) AS [row] FROM ${base} AS t WHERE ${keyCols.map((c, i) => `${c} = @k${i}`).join(' AND ')}`,
      params: table.key.map((k, i) => keyParam(`k${i}`, columns.get(k), key[k])),
    }),
  };
}

/** Column types of one SQL Server table (re-read when a new column shows up), snapshots, schema checks. */
export class MssqlTableCatalog {
  private columns: Map<string, MssqlColumnType> | undefined;
  private readonly queries: ReturnType<typeof mssqlCatalogQueries>;

  constructor(private readonly db: MssqlLegacyDb, readonly table: TableConfig) {
    this.queries = mssqlCatalogQueries(table);
  }

  async columnTypes(refresh = false): Promise<Map<string, MssqlColumnType>> {
    if (this.columns && !refresh) return this.columns;
    const res = await runMssql<{ column_name: string; data_type: string }>(await this.db.connected(), this.queries.columns());
    this.columns = new Map(res.rows.map((r) => [r.column_name, { kind: valueKind('mssql', r.data_type), type: r.data_type.toLowerCase() }]));
    return this.columns;
  }

  async columnKinds(refresh = false): Promise<Map<string, ValueKind>> {
    const columns = await this.columnTypes(refresh);
    return new Map([...columns].map(([name, c]) => [name, c.kind]));
  }

  /** Parses a FOR JSON row image exactly and normalises its values by column type. */
  async rowFromJson(text: string | null): Promise<Row | null> {
    if (text === null) return null;
    const parsed = parseExactJson(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DataError('row image is not a JSON object');
    return this.normalise(parsed as Row);
  }

  /** Normalises an already parsed (lossless) row image, keeping only `only` columns when given. */
  async normalise(raw: Row, only?: ReadonlySet<string>): Promise<Row> {
    let kinds = await this.columnKinds();
    // A column added to the table since the types were read: read them again, no restart needed.
    if (Object.keys(raw).some((c) => !kinds.has(c) && (!only || only.has(c)))) kinds = await this.columnKinds(true);
    const picked = only ? Object.fromEntries(Object.entries(raw).filter(([c]) => only.has(c))) : raw;
    return normaliseRow(picked, kinds, 'mssql');
  }

  async checkSchema(): Promise<SchemaProblem | undefined> {
    const columns = await this.columnTypes(true);
    if (columns.size === 0) return { message: `${this.table.system}.${this.table.schema}.${this.table.name}: table not found` };
    const missing = requiredColumns(this.table).filter((c) => !columns.has(c));
    return missing.length > 0 ? { message: missingColumnsMessage(this.table, missing) } : undefined;
  }

  async snapshotChunk(afterKey: Row | null, limit: number): Promise<Row[]> {
    const columns = await this.columnTypes();
    const res = await runMssql<{ row: string }>(await this.db.connected(), this.queries.snapshotChunk(afterKey, limit, columns));
    const rows: Row[] = [];
    for (const r of res.rows) rows.push((await this.rowFromJson(r.row)) as Row);
    return rows;
  }

  async rowCount(): Promise<number> {
    const res = await runMssql<{ n: string | number }>(await this.db.connected(), this.queries.rowCount());
    return Number(res.rows[0]!.n);
  }

  /** The current row for a key, or null when it no longer exists. */
  async currentRow(key: Row): Promise<Row | null> {
    const columns = await this.columnTypes();
    const res = await runMssql<{ row: string }>(await this.db.connected(), this.queries.currentRow(key, columns));
    return res.rows[0] ? this.rowFromJson(res.rows[0].row) : null;
  }
}
