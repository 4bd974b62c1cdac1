import type { ForeignKeyConfig, PipelineConfig, TableConfig } from '@sync/config';
import { foreignKeyName, Topics } from '@sync/contracts';

/** `<schema>.<table>`: how the key map names a table within its system. */
export function tableRefOf(schema: string, table: string): string {
  return `${schema}.${table}`;
}

/** A declared foreign key with its target table resolved. */
export interface ResolvedForeignKey {
  /** Name in `references`: the columns joined with ",". */
  readonly name: string;
  readonly columns: readonly string[];
  readonly target: TableConfig;
  readonly targetRef: string;
  /** For each of the target's key columns (in key order), the referencing column holding it. */
  readonly columnsInTargetKeyOrder: readonly string[];
}

export interface IndexedTable {
  readonly config: TableConfig;
  readonly tableRef: string;
  readonly foreignKeys: readonly ResolvedForeignKey[];
}

/** The pipeline's tables by system and `<schema>.<table>`, with foreign keys resolved once at start. */
export class TableIndex {
  private readonly tables = new Map<string, IndexedTable>();

  constructor(pipeline: PipelineConfig) {
    const all = [...pipeline.systems.values()].flatMap((system) => system.tables);
    const byId = new Map(all.map((table) => [this.id(table.system, tableRefOf(table.schema, table.name)), table]));
    for (const table of all) {
      const tableRef = tableRefOf(table.schema, table.name);
      const foreignKeys = table.foreignKeys.map((fk) => resolveForeignKey(table, fk, byId, (s, r) => this.id(s, r)));
      this.tables.set(this.id(table.system, tableRef), { config: table, tableRef, foreignKeys });
    }
  }

  get(system: string, tableRef: string): IndexedTable | undefined {
    return this.tables.get(this.id(system, tableRef));
  }

  all(): IndexedTable[] {
    return [...this.tables.values()];
  }

  /** Topics id-translation reads and writes, for every table of the pipeline. */
  topics(): { legacy: string[]; writeback: string[]; keyed: string[]; resolved: string[] } {
    const refs = this.all().map(({ config }) => ({ system: config.system, schema: config.schema, table: config.name }));
    return {
      legacy: refs.map(Topics.legacy),
      writeback: refs.map(Topics.writeback),
      keyed: refs.map(Topics.keyed),
      resolved: refs.map(Topics.resolved),
    };
  }

  private id(system: string, tableRef: string): string {
    return `${system}\u0000${tableRef}`;
  }
}

function resolveForeignKey(
  table: TableConfig,
  fk: ForeignKeyConfig,
  byId: ReadonlyMap<string, TableConfig>,
  id: (system: string, tableRef: string) => string,
): ResolvedForeignKey {
  const name = foreignKeyName(fk.columns);
  const targetRef = tableRefOf(fk.references.schema, fk.references.table);
  const target = byId.get(id(fk.references.system, targetRef));
  const where = `${table.system}.${table.schema}.${table.name} foreign key ${name}`;
  if (!target) throw new Error(`${where}: references ${fk.references.system}.${targetRef}, which is not in the pipeline`);
  // The key map knows rows by their primary key, so a foreign key must name the target's whole key.
  const columnsInTargetKeyOrder = target.key.map((keyColumn) => {
    const at = fk.references.columns.indexOf(keyColumn);
    if (at < 0 || fk.references.columns.length !== target.key.length) {
      throw new Error(`${where}: references columns [${fk.references.columns.join(', ')}], which are not the key [${target.key.join(', ')}] of ${fk.references.system}.${targetRef}`);
    }
    return fk.columns[at]!;
  });
  return { name, columns: fk.columns, target, targetRef, columnsInTargetKeyOrder };
}
