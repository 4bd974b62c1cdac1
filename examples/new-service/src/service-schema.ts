/**
 * The sample new service's own tables: what it knows about users, their addresses and their
 * orders, all by global id (it never sees a legacy key). Idempotent DDL, run at start.
 */
export const SERVICE_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS users (
  id text PRIMARY KEY,
  name text NOT NULL,
  email text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS addresses (
  user_id text PRIMARY KEY,
  street text,
  city text,
  zip text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS orders (
  id text PRIMARY KEY,
  user_id text,
  total numeric(12, 2),
  placed_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- The legacy row version (ce_legacyversion) each user was last seen at: sent back as ce_basedon
-- with the service's own changes, so a legacy edit it had not seen is detected as a conflict.
ALTER TABLE users ADD COLUMN IF NOT EXISTS legacy_version text;
CREATE TABLE IF NOT EXISTS processed_events (
  event_id text PRIMARY KEY,
  processed_at timestamptz NOT NULL DEFAULT now()
);`;
