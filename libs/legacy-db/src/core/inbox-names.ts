/** Table names of the write-back's own state in the sync schema. */
export const INBOX_TABLE = 'inbox';
export const PARKED_TABLE = 'writeback_parked';
