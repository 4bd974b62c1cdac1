import type { Pool } from 'pg';

/**
 * Position in a PostgreSQL changelog read by transaction-id windows. Transactions with xid below
 * `lo` are fully read; the window [lo, hi) holds only finished transactions (hi was the oldest
 * running xid when the window opened) and is read in changelog order after `after`.
 * hi = null: no window open.
 */
export interface XidWindowPosition {
  readonly lo: string;
  readonly hi: string | null;
  /** Order-column values of the last row read in the window; null at its start. */
  readonly after: readonly string[] | null;
}

const DIGITS = /^\d+$/;

export function encodeXidPosition(p: XidWindowPosition): string {
  return JSON.stringify(p);
}

export function decodeXidPosition(position: string): XidWindowPosition {
  let p: Partial<XidWindowPosition>;
  try {
    p = JSON.parse(position) as Partial<XidWindowPosition>;
  } catch {
    throw new Error(`invalid PostgreSQL changelog position ${position}`);
  }
  const okLo = typeof p.lo === 'string' && DIGITS.test(p.lo);
  const okHi = p.hi === null || (typeof p.hi === 'string' && DIGITS.test(p.hi));
  const okAfter = p.after === null || (Array.isArray(p.after) && p.after.every((v) => typeof v === 'string'));
  if (!okLo || !okHi || !okAfter) throw new Error(`invalid PostgreSQL changelog position ${position}`);
  return { lo: p.lo!, hi: p.hi!, after: p.after! };
}

export interface XidWindowQuery {
  /** Quoted, qualified changelog table. */
  readonly from: string;
  /** Quoted xid8 column. */
  readonly txColumn: string;
  /** Quoted columns giving the changelog's order (each row's unique position). */
  readonly orderColumns: readonly string[];
  /** Select list (must include every order column as text aliased `_pos<i>`). */
  readonly select: string;
}

/** SQL for one page of a window; parameters: lo, hi, limit, then the `after` values. */
export function xidWindowSql(q: XidWindowQuery, hasAfter: boolean): string {
  const order = q.orderColumns.join(', ');
  const afterClause = hasAfter ? ` AND (${order}) > (${q.orderColumns.map((_, i) => `$${i + 4}`).join(', ')})` : '';
  return `SELECT ${q.select} FROM ${q.from} WHERE ${q.txColumn} >= $1::xid8 AND ${q.txColumn} < $2::xid8${afterClause} ORDER BY ${order} LIMIT $3`;
}

export async function currentXmin(pool: Pool): Promise<string> {
  const res = await pool.query<{ xmin: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
  return res.rows[0]!.xmin;
}

/**
 * Reads the next page of committed changelog rows. Ids from a sequence are not commit order (a
 * transaction can take an id, commit seconds later and be overtaken), so reads only ever cover
 * transactions older than the oldest one still running, window by window. Inside a window every
 * transaction has finished, and changelog order keeps each row's changes in lock order.
 */
export async function readXidWindow<R extends Record<string, unknown>>(
  pool: Pool,
  q: XidWindowQuery,
  position: string,
  limit: number,
): Promise<{ rows: R[]; next: string; full: boolean }> {
  let pos = decodeXidPosition(position);
  if (pos.hi === null) {
    const hi = await currentXmin(pool);
    if (BigInt(hi) <= BigInt(pos.lo)) return { rows: [], next: position, full: false };
    pos = { lo: pos.lo, hi, after: null };
  }
  const params: unknown[] = [pos.lo, pos.hi, limit, ...(pos.after ?? [])];
  const res = await pool.query<R>(xidWindowSql(q, pos.after !== null), params);
  const full = res.rows.length >= limit;
  const last = res.rows[res.rows.length - 1];
  const next: XidWindowPosition = full && last
    ? { ...pos, after: q.orderColumns.map((_, i) => String(last[`_pos${i}`])) }
    : { lo: pos.hi!, hi: null, after: null };
  return { rows: res.rows, next: encodeXidPosition(next), full };
}
