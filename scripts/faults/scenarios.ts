import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Headers } from '@sync/contracts';
import type { SyncProducer } from '@sync/kafka';
import { encodeDomainEvent } from '@sync/mapping';
import type { HostileValue } from './hostile';

/** The role legacy-writeback connects as in the fault run (not a superuser, so REVOKE means something). */
export const WRITEBACK_ROLE = 'faults_writeback';

/** Size of the oversize legacy value: over the broker's default max.message.bytes (1 MiB), incompressible. */
const OVERSIZE_BYTES = 2 * 1024 * 1024;

/**
 * The scenarios that act on the legacy database and the broker's topics as an operator, a DBA or a
 * hostile client would (docs/faults.md). Each call opens its own session, so it works whatever
 * state the cluster is in (a session of the pools may be read-only or dead).
 */
export class ScenarioControl {
  private addedColumns = 0;
  private hostileSeq = 0;
  readonly hostile: HostileValue[] = [];

  constructor(
    private readonly legacyUrl: string,
    private readonly adminUrl: string,
    private readonly producer: SyncProducer,
    private readonly userTopic: string,
    private readonly origin: string,
    private readonly source: string,
  ) {}

  /** ALTER TABLE ... ADD COLUMN with a default: the write-back must go on without a restart. */
  async addColumn(): Promise<string> {
    const column = `faults_added_${++this.addedColumns}`;
    await this.sql(this.legacyUrl, `ALTER TABLE users ADD COLUMN ${column} text NOT NULL DEFAULT 'added under load'`);
    return column;
  }

  /**
   * Drops the mapped column users.zip, keeping its values aside in the same transaction. Restored
   * by `restoreZip` with capture and audit triggers off (session_replication_role = replica): the
   * DBA puts back what was there; nothing changed, so nothing is captured.
   */
  async dropZip(): Promise<void> {
    // The table lock first: a write-back transaction in flight commits before the values are saved
    // (the saving statement's snapshot is taken after the lock), or the restore would put back
    // values older than what the write-back had committed.
    await this.sql(this.legacyUrl, `BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; DROP TABLE IF EXISTS faults.zip_saved; CREATE TABLE faults.zip_saved AS SELECT id, zip FROM users; ALTER TABLE users DROP COLUMN zip; COMMIT`);
  }

  async restoreZip(): Promise<number> {
    const c = await this.client(this.legacyUrl);
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL session_replication_role = replica');
      await c.query('ALTER TABLE users ADD COLUMN zip text');
      const res = await c.query('UPDATE users u SET zip = s.zip FROM faults.zip_saved s WHERE s.id = u.id AND s.zip IS NOT NULL');
      await c.query('COMMIT');
      return res.rowCount ?? 0;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  revokeUpdate(): Promise<void> {
    return this.sql(this.legacyUrl, `REVOKE UPDATE ON users FROM ${WRITEBACK_ROLE}`);
  }

  grantUpdate(): Promise<void> {
    return this.sql(this.legacyUrl, `GRANT UPDATE ON users TO ${WRITEBACK_ROLE}`);
  }

  /** The whole cluster read-only (as after a fail-over to a replica) or writable again. */
  async readOnly(on: boolean): Promise<void> {
    const c = await this.client(this.adminUrl);
    try {
      await c.query(`ALTER SYSTEM SET default_transaction_read_only = ${on ? 'on' : 'off'}`);
      await c.query('SELECT pg_reload_conf()');
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  /** A legacy user whose street is ~2 MB: its change cannot be a Kafka message; expected in dlq.legacy-import. */
  async insertOversize(): Promise<HostileValue> {
    const n = ++this.hostileSeq;
    const street = randomBytes((OVERSIZE_BYTES * 3) / 4).toString('base64');
    const c = await this.client(this.legacyUrl);
    try {
      const res = await c.query<{ id: number }>(`INSERT INTO users (name, email, street, city, zip) VALUES ($1, $2, $3, 'Hostile', '00000') RETURNING id`, [`Hostile-Oversize-${n}`, `hostile-${n}@faults.invalid`, street]);
      const id = res.rows[0]!.id;
      const value: HostileValue = { kind: 'oversize-legacy-row', key: String(id), expectedTopic: 'dlq.legacy-import', legacyId: id };
      this.hostile.push(value);
      return value;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  /** A new-side UserChanged with a NUL in ce_subject (and so in the key), or in ce_source: expected in the DLQ of the app that rejects it. */
  async publishNul(where: 'subject' | 'source'): Promise<HostileValue> {
    const n = ++this.hostileSeq;
    const id = `faults-hostile-nul-${where}-${n}`;
    const subject = `faults-hostile-subject-${n}`;
    // Encoded clean (the codec may refuse a NUL), then the NUL is put where a hostile client would.
    const encoded = encodeDomainEvent({
      id,
      source: this.source,
      type: 'UserChanged',
      subject,
      time: new Date().toISOString(),
      dataschema: 'urn:legacy-sync:schema:user:v1:UserChanged',
      data: { name: `Hostile-Nul-${where}-${n}`, email: `hostile-nul-${n}@faults.invalid` },
    });
    const hostileSubject = `hostile\u0000subject-${n}`;
    const headers: Record<string, string> = { ...encoded.headers, [Headers.eventId]: id, [Headers.origin]: this.origin, [Headers.causationId]: id };
    if (where === 'subject') headers['ce_subject'] = hostileSubject;
    else headers['ce_source'] = `${this.source}\u0000hostile`;
    await this.producer.send([{ topic: this.userTopic, key: where === 'subject' ? hostileSubject : encoded.key, value: encoded.value, headers }]);
    const value: HostileValue = { kind: where === 'subject' ? 'nul-in-ce-subject' : 'nul-in-ce-source', key: id, expectedTopic: undefined };
    this.hostile.push(value);
    return value;
  }

  /** Before the final checks: the oversize rows go (uncaptured), as an operator would after handling their dead letters. */
  async removeHostileRows(): Promise<void> {
    const ids = this.hostile.flatMap((h) => (h.legacyId === undefined ? [] : [h.legacyId]));
    if (ids.length === 0) return;
    const c = await this.client(this.legacyUrl);
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL session_replication_role = replica');
      await c.query('DELETE FROM users WHERE id = ANY($1::int[])', [ids]);
      await c.query('COMMIT');
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  private async client(url: string): Promise<Client> {
    const c = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    c.on('error', () => undefined);
    await c.connect();
    // This session must write even while the cluster is read-only (it is the one that switches it back).
    await c.query('SET default_transaction_read_only = off');
    return c;
  }

  private async sql(url: string, text: string): Promise<void> {
    const c = await this.client(url);
    try {
      await c.query(text);
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}
