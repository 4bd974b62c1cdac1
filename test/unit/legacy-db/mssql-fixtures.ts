import type { CaptureConfig, SystemConfig, TableConfig } from '@sync/config';

const common = { batchSize: 500, pollIntervalMs: 1000, snapshotChunkSize: 10_000 };

export function mssqlTable(name: string, key: string[], capture: CaptureConfig, schema = 'dbo'): TableConfig {
  return {
    system: 'erp',
    schema,
    name,
    key,
    capture,
    foreignKeys: [],
    conflictPolicy: 'legacy-wins',
    staleAfterMs: 60_000,
    generatedKey: false,
    identityInsert: false,
    initialState: 'enabled',
  };
}

export const triggerCapture: CaptureConfig = { ...common, mode: 'trigger', retentionMs: 86_400_000, notify: true, triggerLevel: 'statement' };

export const changelogCapture: CaptureConfig = {
  ...common,
  mode: 'changelog',
  changelogTable: 'Order Log',
  changelogSchema: 'audit',
  positionColumns: ['log_id'],
  operationColumn: 'action',
  operationValues: { insert: 'I', update: 'U', delete: 'D' },
  keysOnly: false,
  watermarkColumn: 'sync_rv',
  keyColumns: ['order_no'],
};

export const cdcCapture: CaptureConfig = { ...common, mode: 'cdc', captureInstance: 'dbo_customer', resnapshotOnGap: false };

/** Reserved words, mixed case and inner spaces in every position. */
export const orderLines = mssqlTable('Order Line', ['order', 'Line No'], triggerCapture, 'Sales');
export const customers = mssqlTable('customer', ['id'], triggerCapture);
export const orders = mssqlTable('orders', ['order_no'], changelogCapture);
export const cdcCustomers = mssqlTable('customer', ['id'], cdcCapture);

export function mssqlSystem(tables: TableConfig[]): SystemConfig {
  return {
    name: 'erp',
    dialect: 'mssql',
    connection: { kind: 'url', url: { env: 'ERP_DATABASE_URL' }, tls: { enabled: false, rejectUnauthorized: true }, poolSize: 4 },
    syncSchema: 'sync',
    tables,
  };
}
