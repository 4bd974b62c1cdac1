import { LEGACY_SCHEMA_SQL as DEMO_LEGACY_SCHEMA_SQL, twoWayPipelineYaml, twoWayVerifyYaml } from '../../test/support/two-way-stack';

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

/** The run's pipeline; `partitions` > 1 (several replicas) gives every topic the apps create that many partitions. */
export function faultsPipelineYaml(partitions = 1): string {
  const pipeline = twoWayPipelineYaml({
    system: FAULTS_SYSTEM,
    userAggregate: USER_AGGREGATE,
    orderAggregate: ORDER_AGGREGATE,
    groupPrefix: 'faults',
    pollIntervalMs: 200,
    deletes: true,
    verify: twoWayVerifyYaml(FAULTS_SYSTEM),
  });
  const withPartitions = partitions > 1 ? pipeline.replace(/^kafka:\n/m, `kafka:\n  topics:\n    partitions: ${partitions}\n`) : pipeline;
  if (partitions > 1 && withPartitions === pipeline) throw new Error('faults pipeline: no kafka section to set the partitions in');
  return `# Written by scripts/faults (the fault-injection run); see docs/faults.md.\n${withPartitions}`;
}
