import type { Pool, PoolClient } from 'pg';
import { retryUntil, WorkloadError } from './retry';
import type { LegacyOp, LegacyResult } from './workload';

/** The legacy application: executes a LegacyOp in one transaction, through outages. */
export class LegacyDriver {
  retries = 0;

  constructor(
    private readonly pool: Pool,
    private readonly deadlineMs: number,
  ) {}

  async apply(op: LegacyOp): Promise<LegacyResult> {
    return retryUntil(
      `legacy ${op.kind}`,
      this.deadlineMs,
      () => this.transaction((c) => this.run(c, op)),
      () => this.probe(op),
      () => this.retries++,
    );
  }

  private async transaction<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // A checked-out client has no idle listener: when PostgreSQL goes away between two queries it
    // emits 'error', which would crash the process unheard.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = true;
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', onError);
      // A client that saw an error may hold a dead connection: drop it rather than reuse it.
      client.release(broken);
    }
  }

  private async run(c: PoolClient, op: LegacyOp): Promise<LegacyResult> {
    const one = async (sql: string, params: unknown[]): Promise<void> => {
      const res = await c.query(sql, params);
      if (res.rowCount !== 1) throw new WorkloadError(`legacy ${op.kind}: ${res.rowCount} rows affected, expected 1 (${JSON.stringify(op)})`);
    };
    switch (op.kind) {
      case 'seed': {
        const users = await c.query<{ id: number; name: string }>(
          `INSERT INTO users (name, email, street, city, zip) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) RETURNING id, name`,
          [op.users.map((u) => u.name), op.users.map((u) => u.email), op.users.map((u) => u.street), op.users.map((u) => u.city), op.users.map((u) => u.zip)],
        );
        const idByName = new Map(users.rows.map((r) => [r.name, r.id]));
        const userIds = op.users.map((u) => idByName.get(u.name)!);
        const legacyIds = op.users.flatMap((u, i) => (u.owner === 'legacy' ? [userIds[i]!] : []));
        const orders = await c.query<{ id: number; total: string }>(
          `INSERT INTO orders (user_id, total) SELECT * FROM unnest($1::int[], $2::numeric[]) RETURNING id, total::text`,
          [op.orderTotals.map((_, i) => legacyIds[i % legacyIds.length]), op.orderTotals],
        );
        const idByTotal = new Map(orders.rows.map((r) => [r.total, r.id]));
        return { userIds, orderIds: op.orderTotals.map((t) => idByTotal.get(t)!) };
      }
      case 'insert-user': {
        const u = op.user;
        const res = await c.query<{ id: number }>(`INSERT INTO users (name, email, street, city, zip) VALUES ($1, $2, $3, $4, $5) RETURNING id`, [u.name, u.email, u.street, u.city, u.zip]);
        const userId = res.rows[0]!.id;
        if (op.orderTotal === undefined) return { userIds: [userId] };
        const order = await c.query<{ id: number }>(`INSERT INTO orders (user_id, total) VALUES ($1, $2) RETURNING id`, [userId, op.orderTotal]);
        return { userIds: [userId], orderIds: [order.rows[0]!.id] };
      }
      case 'update-address':
        await one(`UPDATE users SET street = $2, city = $3, zip = $4, updated_at = now() WHERE id = $1`, [op.id, op.street, op.city, op.zip]);
        return {};
      case 'update-contact':
        await one(`UPDATE users SET name = $2, email = $3, updated_at = now() WHERE id = $1`, [op.id, op.name, op.email]);
        return {};
      case 'update-both': {
        const v = op.values;
        await one(`UPDATE users SET name = $2, email = $3, street = $4, city = $5, zip = $6, updated_at = now() WHERE id = $1`, [op.id, v.name, v.email, v.street, v.city, v.zip]);
        return {};
      }
      case 'touch-user':
        await one(`UPDATE users SET updated_at = now() WHERE id = $1`, [op.id]);
        return {};
      case 'insert-order': {
        const res = await c.query<{ id: number }>(`INSERT INTO orders (user_id, total) VALUES ($1, $2) RETURNING id`, [op.userId, op.total]);
        return { orderIds: [res.rows[0]!.id] };
      }
      case 'update-order':
        await one(`UPDATE orders SET user_id = $2, total = $3 WHERE id = $1`, [op.id, op.userId, op.total]);
        return {};
      case 'delete-order':
        await one(`DELETE FROM orders WHERE id = $1`, [op.id]);
        return {};
      case 'delete-user': {
        const res = await c.query(`DELETE FROM orders WHERE user_id = $1`, [op.id]);
        if (res.rowCount !== op.orders.length) throw new WorkloadError(`legacy delete-user ${op.id}: ${res.rowCount} orders deleted, the model has ${op.orders.length}`);
        await one(`DELETE FROM users WHERE id = $1`, [op.id]);
        return {};
      }
    }
  }

  /** Whether an op whose attempt failed took effect after all (and its generated keys). */
  private async probe(op: LegacyOp): Promise<LegacyResult | undefined> {
    const q = async <T extends Record<string, unknown>>(sql: string, params: unknown[]): Promise<T | undefined> => (await this.pool.query<T>(sql, params)).rows[0];
    switch (op.kind) {
      case 'seed': {
        const found = await q<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE name = $1`, [op.users[0]!.name]);
        if (found && found.n > 0) throw new WorkloadError('the seed transaction failed ambiguously: start the run again');
        return undefined;
      }
      case 'insert-user': {
        const user = await q<{ id: number }>(`SELECT id FROM users WHERE name = $1`, [op.user.name]);
        if (!user) return undefined;
        if (op.orderTotal === undefined) return { userIds: [user.id] };
        const order = await q<{ id: number }>(`SELECT id FROM orders WHERE total = $1::numeric`, [op.orderTotal]);
        if (!order) throw new WorkloadError(`insert-user ${op.user.name}: user committed without its order`);
        return { userIds: [user.id], orderIds: [order.id] };
      }
      case 'update-address':
        return (await q<{ street: string }>(`SELECT street FROM users WHERE id = $1`, [op.id]))?.street === op.street ? {} : undefined;
      case 'update-contact':
        return (await q<{ email: string }>(`SELECT email FROM users WHERE id = $1`, [op.id]))?.email === op.email ? {} : undefined;
      case 'update-both':
        return (await q<{ street: string }>(`SELECT street FROM users WHERE id = $1`, [op.id]))?.street === op.values.street ? {} : undefined;
      case 'touch-user':
        // Nothing to recognise it by; touching again is harmless (it maps to no event).
        return undefined;
      case 'insert-order': {
        const order = await q<{ id: number }>(`SELECT id FROM orders WHERE total = $1::numeric`, [op.total]);
        return order ? { orderIds: [order.id] } : undefined;
      }
      case 'update-order':
        return (await q<{ total: string }>(`SELECT total::text AS total FROM orders WHERE id = $1`, [op.id]))?.total === op.total ? {} : undefined;
      case 'delete-order':
        return (await q(`SELECT 1 AS x FROM orders WHERE id = $1`, [op.id])) ? undefined : {};
      case 'delete-user':
        return (await q(`SELECT 1 AS x FROM users WHERE id = $1`, [op.id])) ? undefined : {};
    }
  }
}
