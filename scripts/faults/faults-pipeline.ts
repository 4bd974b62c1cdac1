import { LEGACY_SCHEMA_SQL as DEMO_LEGACY_SCHEMA_SQL } from '../../test/support/two-way-stack';

/**
 * The pipeline of the fault run: the demo's legacy CRM (users holding the address, orders → users)
 * with deletes in both directions: UserRemoved (legacy → new and back) and OrderRemoved. The run
 * has its own broker and cluster, so names are fixed.
 */
export const FAULTS_SYSTEM = 'crm';
export const USER_AGGREGATE = 'user';
export const ORDER_AGGREGATE = 'order';
/** The new service's name: its events carry origin `service:<name>`. */
export const SERVICE_NAME = 'faults';
export const SERVICE_ORIGIN = `service:${SERVICE_NAME}`;

/** The demo's legacy schema (shared with the e2e test), with the indexes the run's lookups use. */
export const LEGACY_SCHEMA_SQL = `${DEMO_LEGACY_SCHEMA_SQL}
CREATE INDEX orders_user_id ON orders (user_id);
CREATE INDEX users_name ON users (name);`;

/**
 * The write audit: every row the suite writes (the write-back sets sync.origin in its transaction)
 * is recorded with the e-mail and street before and after, for the duplicate-write check
 * (checks.ts findDuplicateWrites). Not part of the product: the legacy application's own writes
 * (no origin) are not recorded.
 */
export const AUDIT_SQL = `
CREATE SCHEMA faults;
CREATE TABLE faults.writes (
  seq bigserial PRIMARY KEY,
  tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
  table_name text NOT NULL,
  op text NOT NULL,
  row_id int NOT NULL,
  old_name text, new_name text,
  old_email text, new_email text,
  old_street text, new_street text,
  origin text NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE FUNCTION faults.audit_users() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE o text := coalesce(current_setting('sync.origin', true), '');
BEGIN
  IF o = '' THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO faults.writes (table_name, op, row_id, new_name, new_email, new_street, origin) VALUES ('users', TG_OP, NEW.id, NEW.name, NEW.email, NEW.street, o);
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO faults.writes (table_name, op, row_id, old_name, new_name, old_email, new_email, old_street, new_street, origin)
      VALUES ('users', TG_OP, NEW.id, OLD.name, NEW.name, OLD.email, NEW.email, OLD.street, NEW.street, o);
  ELSE
    INSERT INTO faults.writes (table_name, op, row_id, old_name, old_email, old_street, origin) VALUES ('users', TG_OP, OLD.id, OLD.name, OLD.email, OLD.street, o);
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION faults.audit_orders() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE o text := coalesce(current_setting('sync.origin', true), '');
BEGIN
  IF o = '' THEN RETURN NULL; END IF;
  INSERT INTO faults.writes (table_name, op, row_id, origin) VALUES ('orders', TG_OP, CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, o);
  RETURN NULL;
END $$;
CREATE TRIGGER faults_audit AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION faults.audit_users();
CREATE TRIGGER faults_audit AFTER INSERT OR UPDATE OR DELETE ON orders FOR EACH ROW EXECUTE FUNCTION faults.audit_orders();`;

export function faultsPipelineYaml(): string {
  const s = FAULTS_SYSTEM;
  return `# Written by scripts/faults (the fault-injection run); see docs/faults.md.
version: 1
kafka:
  clientId: faults
idTranslation:
  groupPrefix: faults_idt
domainTransform:
  groupPrefix: faults_dt
systems:
  ${s}:
    dialect: postgres
    connection:
      url: { env: CRM_DATABASE_URL }
    tables:
      - name: users
        key: [id]
        generatedKey: true
        conflictPolicy: last-writer-wins
        capture: { mode: trigger, pollIntervalMs: 200 }
      - name: orders
        key: [id]
        capture: { mode: trigger, pollIntervalMs: 200 }
        foreignKeys:
          - columns: [user_id]
            references: { table: users, columns: [id] }
mappings:
  users:
    source: { system: ${s}, table: users }
    aggregate: ${USER_AGGREGATE}
    events:
      - type: UserChanged
        fields: { name: name, email: email }
        schema:
          type: object
          required: [name]
          properties:
            name: { type: string, minLength: 1 }
            email: { type: [string, "null"] }
          additionalProperties: false
      - type: AddressChanged
        fields: { street: street, city: city, zip: zip }
        schema:
          type: object
          properties:
            street: { type: [string, "null"] }
            city: { type: [string, "null"] }
            zip: { type: [string, "null"] }
          additionalProperties: false
      - type: UserRemoved
        on: [d]
    reverse:
      - event: UserChanged
        target: { system: ${s}, table: users }
        columns: { name: name, email: email }
      - event: AddressChanged
        target: { system: ${s}, table: users }
        columns: { street: street, city: city, zip: zip }
      - event: UserRemoved
        target: { system: ${s}, table: users }
        op: delete
  orders:
    source: { system: ${s}, table: orders }
    aggregate: ${ORDER_AGGREGATE}
    events:
      - type: OrderPlaced
        on: [c, u, r]
        fields:
          userId: $references.user_id
          total: { expr: total, type: string }
          placedAt: { expr: placed_at, type: date }
      - type: OrderRemoved
        on: [d]
verify:
  newSide:
    connection: { url: { env: SERVICE_DATABASE_URL } }
  entities:
    users:
      source: { system: ${s}, table: users }
      mapping: users
      tables: { users: id, addresses: user_id }
      fields:
        users.name: UserChanged.name
        users.email: UserChanged.email
        addresses.street: AddressChanged.street
        addresses.city: AddressChanged.city
        addresses.zip: AddressChanged.zip
    orders:
      source: { system: ${s}, table: orders }
      tables: { orders: id }
      fields:
        orders.user_id: OrderPlaced.userId
        orders.total: OrderPlaced.total
        orders.placed_at: OrderPlaced.placedAt
`;
}
