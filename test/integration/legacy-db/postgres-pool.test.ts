import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client } from 'pg';
import { PostgresLegacyDb, type LegacyDbOptions } from '@sync/legacy-db';
import { testDatabaseUrl } from '../../support/test-env';

describe('PostgreSQL legacy database pool', () => {
  it('survives losing the connection of a checked-out client: its next query fails, the process does not crash', { timeout: 60_000 }, async () => {
    const url = testDatabaseUrl('postgres');
    const options: LegacyDbOptions = { system: 'pooltest', dialect: 'postgres', url: { reveal: () => url }, poolSize: 2 };
    const db = new PostgresLegacyDb(options, () => undefined);
    const admin = new Client({ connectionString: url });
    await admin.connect();
    try {
      // As the write-back holds a client between two statements of its transaction.
      const client = await db.pool.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // Not events.once: it listens for 'error' itself, which would hide the bug.
      const ended = new Promise((resolve) => client.once('end', resolve));
      // The server ends this one session (what a PostgreSQL shutdown does to every session).
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await ended; // without a listener, the 'error' emitted before this would have been an uncaught exception
      await assert.rejects(client.query('SELECT 1'));
      client.release(true);
      assert.equal((await db.pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 1, 'the pool hands out a fresh connection');
    } finally {
      await admin.end();
      await db.close();
    }
  });
});
