import sql from 'mssql';
import { quoteIdent } from '@sync/config';

/** Parameter types the SQL Server capture statements use; mapped to driver types in one place. */
export type MssqlParamType =
  | 'int'
  | 'bigint'
  | 'bit'
  | 'float'
  | 'nvarchar'
  | 'varchar'
  | 'varbinary'
  | 'rowversion'
  | 'lsn';

export interface MssqlParam {
  readonly name: string;
  readonly type: MssqlParamType;
  readonly value: unknown;
}

/** One T-SQL statement with its parameters: built by pure functions, run by `runMssql`. */
export interface MssqlStatement {
  readonly text: string;
  readonly params: readonly MssqlParam[];
}

export const qi = (name: string): string => quoteIdent('mssql', name);

/** An N'...' literal for trusted constants and validated, quoted identifiers (never row values). */
export function nstr(text: string): string {
  return `N'${text.replaceAll("'", "''")}'`;
}

function driverType(type: MssqlParamType): sql.ISqlType | (() => sql.ISqlType) {
  switch (type) {
    case 'int':
      return sql.Int;
    case 'bigint':
      return sql.BigInt;
    case 'bit':
      return sql.Bit;
    case 'float':
      return sql.Float;
    case 'nvarchar':
      return sql.NVarChar(sql.MAX);
    case 'varchar':
      return sql.VarChar(sql.MAX);
    case 'varbinary':
      return sql.VarBinary(sql.MAX);
    // rowversion is binary(8) and an LSN binary(10): tedious declares a Binary parameter with the
    // buffer's length, so the predicate compares byte-wise with no conversion of the column.
    case 'rowversion':
    case 'lsn':
      return sql.Binary;
    default: {
      const never: never = type;
      throw new Error(`unknown parameter type ${String(never)}`);
    }
  }
}

/** Runs one statement with typed parameters and returns its first record set. */
export async function runMssql<R>(pool: sql.ConnectionPool, statement: MssqlStatement): Promise<{ rows: R[]; rowsAffected: number }> {
  const request = pool.request();
  for (const p of statement.params) request.input(p.name, driverType(p.type), p.value);
  const res = await request.query<R>(statement.text);
  return { rows: (res.recordset ?? []) as R[], rowsAffected: res.rowsAffected.reduce((a, b) => a + b, 0) };
}
