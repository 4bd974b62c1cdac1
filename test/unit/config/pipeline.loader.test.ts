import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
// Through the public index, relatively: the compiled tests run without a path-alias resolver.
import { ConfigValidationError, loadPipelineFile, parsePipeline, type ConfigIssue } from '@sync/config';

const FIXTURE = join(__dirname, '../../../../test/fixtures/pipeline/valid.pipeline.yaml');

function issuesOf(yaml: string, source = 'broken.yaml'): readonly ConfigIssue[] {
  try {
    parsePipeline(yaml, source);
  } catch (error: unknown) {
    assert.ok(error instanceof ConfigValidationError, `expected ConfigValidationError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('expected the pipeline to be rejected');
}

function pathsOf(yaml: string): string[] {
  return issuesOf(yaml).map((issue) => issue.path);
}

function messageAt(yaml: string, path: string): string {
  const issue = issuesOf(yaml).find((candidate) => candidate.path === path);
  assert.ok(issue, `no issue at ${path}`);
  return issue.message;
}

// A minimal valid system; broken cases below change one thing each.
const crm = (tables: string, connection = 'connection: { host: db, database: crm, password: { env: CRM_PW } }'): string => `
version: 1
systems:
  crm:
    dialect: postgres
    ${connection}
    tables:
${tables}
`;

const USERS = `      - name: users
        key: [id]
        columns: [id, name, email]
        capture: { mode: trigger }`;

describe('valid pipeline file', () => {
  const pipeline = loadPipelineFile(FIXTURE);

  it('loads both systems with their tables', () => {
    assert.deepEqual([...pipeline.systems.keys()], ['crm', 'erp']);
    const crmSystem = pipeline.systems.get('crm');
    assert.deepEqual(
      crmSystem?.tables.map((table) => `${table.schema}.${table.name}`),
      ['public.users', 'public.orders'],
    );
    assert.deepEqual(crmSystem?.tables[0]?.columns, ['id', 'name', 'email', 'street', 'city', 'zip']);
  });

  it('applies defaults: schema per dialect, sync schema, port, capture, policy, staleness', () => {
    const crmSystem = pipeline.systems.get('crm');
    const erp = pipeline.systems.get('erp');
    assert.equal(crmSystem?.syncSchema, 'sync');
    assert.equal(erp?.syncSchema, 'sync_bridge');
    assert.equal(erp?.tables[0]?.schema, 'dbo');
    const orders = crmSystem?.tables[1];
    assert.deepEqual(orders?.capture, { mode: 'trigger', batchSize: 1000, pollIntervalMs: 100, snapshotChunkSize: 10_000, retentionMs: 86_400_000, notify: false, triggerLevel: 'statement' });
    assert.equal(orders?.staleAfterMs, 300_000);
    assert.equal(orders?.generatedKey, false);
    assert.equal(crmSystem?.tables[0]?.conflictPolicy, 'legacy-wins');
    assert.equal(erp?.tables[0]?.conflictPolicy, 'legacy-wins');
    assert.deepEqual(erp?.tables[1]?.capture, {
      mode: 'cdc',
      batchSize: 1000,
      pollIntervalMs: 250,
      snapshotChunkSize: 10_000,
      captureInstance: 'sales_Order Line',
      resnapshotOnGap: false,
    });
    assert.deepEqual(erp?.connection.tls, { enabled: true, ca: { file: '/etc/erp/ca.pem' }, rejectUnauthorized: true });
    assert.equal(erp?.connection.poolSize, 10);
  });

  it('defaults an omitted capture to trigger mode', () => {
    const pipeline = parsePipeline(crm(`      - name: users
        key: [id]`), 'no-capture.yaml');
    assert.deepEqual(pipeline.systems.get('crm')?.tables[0]?.capture, { mode: 'trigger', batchSize: 1000, pollIntervalMs: 100, snapshotChunkSize: 10_000, retentionMs: 86_400_000, notify: false, triggerLevel: 'statement' });
  });

  it('resolves foreign key references to a full system.schema.table', () => {
    assert.deepEqual(pipeline.systems.get('crm')?.tables[1]?.foreignKeys, [
      { columns: ['user_id'], references: { system: 'crm', schema: 'public', table: 'users', columns: ['id'] } },
    ]);
  });

  it('keeps secret references as references, never values', () => {
    const connection = pipeline.systems.get('crm')?.connection;
    assert.equal(connection?.kind, 'host');
    assert.deepEqual(connection?.password, { env: 'CRM_DB_PASSWORD' });
    assert.deepEqual(pipeline.systems.get('erp')?.connection, {
      kind: 'url',
      url: { env: 'ERP_DATABASE_URL' },
      tls: { enabled: true, ca: { file: '/etc/erp/ca.pem' }, rejectUnauthorized: true },
      poolSize: 10,
    });
  });

  it('is frozen', () => {
    const users = pipeline.systems.get('crm')?.tables[0];
    assert.ok(users !== undefined && Object.isFrozen(users) && Object.isFrozen(users.key));
    assert.throws(() => {
      (users.key as string[]).push('x');
    }, TypeError);
  });
});

describe('broken pipeline files name the exact path', () => {
  it('empty key', () => {
    const yaml = crm(`${USERS}
      - name: orders
        key: [id]
        capture: { mode: trigger }
      - name: audit
        key: []
        capture: { mode: trigger }`);
    assert.deepEqual(pathsOf(yaml), ['systems.crm.tables[2].key']);
    assert.equal(messageAt(yaml, 'systems.crm.tables[2].key'), 'must not be empty');
  });

  it('inline password', () => {
    const yaml = crm(USERS, 'connection: { host: db, database: crm, password: hunter2 }');
    assert.deepEqual(pathsOf(yaml), ['systems.crm.connection.password']);
    assert.equal(
      messageAt(yaml, 'systems.crm.connection.password'),
      'must be a secret reference ({ env: NAME } or { file: /path }), not an inline value',
    );
  });

  it('unknown SASL mechanism', () => {
    const yaml = `
version: 1
kafka:
  sasl: { mechanism: md5, username: sync, password: { file: /run/secrets/kafka } }
${crm(USERS).replace('version: 1', '')}`;
    assert.deepEqual(pathsOf(yaml), ['kafka.sasl.mechanism']);
    assert.match(messageAt(yaml, 'kafka.sasl.mechanism'), /^must be one of plain, scram-sha-256, scram-sha-512\b/);
  });

  it('unknown top-level key and unknown nested field, with a suggestion', () => {
    const yaml = `${crm(`${USERS}
        conflictPolicyy: new-wins`)}
replicaton: []
`;
    assert.deepEqual(pathsOf(yaml), ['systems.crm.tables[0].conflictPolicyy', 'replicaton']);
    assert.equal(messageAt(yaml, 'replicaton'), 'is not a known field (did you mean replication?)');
    assert.equal(
      messageAt(yaml, 'systems.crm.tables[0].conflictPolicyy'),
      'is not a known field (did you mean conflictPolicy?)',
    );
  });

  it('duplicate table in a system (schema defaulted)', () => {
    const yaml = crm(`${USERS}
      - name: users
        schema: public
        key: [id]
        capture: { mode: trigger }`);
    assert.deepEqual(pathsOf(yaml), ['systems.crm.tables[1].name']);
    assert.equal(messageAt(yaml, 'systems.crm.tables[1].name'), 'duplicates table public.users declared at tables[0]');
  });

  it('foreign key whose column count differs from the referenced columns', () => {
    const yaml = crm(`${USERS}
      - name: orders
        key: [id]
        capture: { mode: trigger }
        foreignKeys:
          - columns: [user_id, tenant_id]
            references: { table: users, columns: [id] }`);
    assert.deepEqual(pathsOf(yaml), ['systems.crm.tables[1].foreignKeys[0].references.columns']);
  });

  it('foreign key column missing from the listed columns', () => {
    const yaml = crm(`${USERS}
      - name: orders
        key: [id]
        columns: [id, total]
        capture: { mode: trigger }
        foreignKeys:
          - columns: [user_id]
            references: { table: users, columns: [id] }`);
    assert.deepEqual(pathsOf(yaml), ['systems.crm.tables[1].foreignKeys[0].columns[0]']);
  });

  it('foreign key to an unknown system, and to an undeclared table', () => {
    const yaml = crm(`${USERS}
      - name: orders
        key: [id]
        capture: { mode: trigger }
        foreignKeys:
          - columns: [user_id]
            references: { system: erp, table: users, columns: [id] }
          - columns: [product_id]
            references: { table: products, columns: [id] }`);
    assert.deepEqual(pathsOf(yaml), [
      'systems.crm.tables[1].foreignKeys[0].references.system',
      'systems.crm.tables[1].foreignKeys[1].references.table',
    ]);
    assert.equal(
      messageAt(yaml, 'systems.crm.tables[1].foreignKeys[0].references.system'),
      'unknown system "erp" (systems: crm)',
    );
  });

  it('changelog mode without its required fields, and a field of another mode', () => {
    const yaml = crm(`      - name: users
        key: [id]
        capture: { mode: changelog, captureInstance: dbo_users }`);
    assert.deepEqual(pathsOf(yaml), [
      'systems.crm.tables[0].capture.changelogTable',
      'systems.crm.tables[0].capture.positionColumns',
      'systems.crm.tables[0].capture.operationColumn',
      'systems.crm.tables[0].capture.captureInstance',
    ]);
    assert.equal(messageAt(yaml, 'systems.crm.tables[0].capture.changelogTable'), 'is required');
    assert.equal(messageAt(yaml, 'systems.crm.tables[0].capture.captureInstance'), 'only applies when mode is cdc');
  });

  it('cdc capture on a postgres system', () => {
    const yaml = crm(`      - name: users
        key: [id]
        capture: { mode: cdc }`);
    assert.deepEqual(pathsOf(yaml), ['systems.crm.tables[0].capture.mode']);
  });

  it('unsafe identifiers and system names', () => {
    const yaml = `
version: 1
systems:
  CRM-1:
    dialect: postgres
    connection: { host: db, database: crm }
    tables:
      - name: "users; DROP TABLE x"
        key: [id, "e-mail"]
        capture: { mode: trigger }`;
    assert.deepEqual(pathsOf(yaml), ['systems.CRM-1', 'systems.CRM-1.tables[0].name', 'systems.CRM-1.tables[0].key[1]']);
  });

  it('reserved keys are reported, not dropped or crashing the validator', () => {
    const yaml = `${crm(USERS).replace('systems:', 'systems:\n  constructor: { dialect: postgres }')}
mappings: { __proto__: { polluted: true } }
`;
    assert.deepEqual(pathsOf(yaml), ['systems.constructor', 'mappings.__proto__']);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('url together with host', () => {
    const yaml = crm(USERS, 'connection: { url: { env: CRM_URL }, host: db }');
    assert.deepEqual(pathsOf(yaml), ['systems.crm.connection.host']);
  });

  it('values of the wrong kind', () => {
    const yaml = `
version: 1
systems:
  crm:
    dialect: oracle
    connection: [db]
    tables: { name: users }
    syncSchema: 7`;
    assert.deepEqual(pathsOf(yaml), [
      'systems.crm.dialect',
      'systems.crm.connection',
      'systems.crm.tables',
      'systems.crm.syncSchema',
    ]);
    assert.equal(messageAt(yaml, 'systems.crm.connection'), 'must be a mapping, not a list');
    assert.equal(messageAt(yaml, 'systems.crm.tables'), 'must be a list, not a mapping');
  });
});

describe('a file with several errors', () => {
  const yaml = `version: 2
kafka:
  brokers: [localhost]
systems:
  crm:
    dialect: postgres
    connection: { host: db, database: crm, password: hunter2 }
    tables:
      - name: users
        key: []
        capture: { mode: trigger }
      - name: orders
        key: [id]
        capture: { mode: trigger, batchSize: 0 }
        conflictPolicy: newest-wins
`;

  it('lists every problem in one error, one line each, in file order', () => {
    let error: unknown;
    try {
      parsePipeline(yaml, 'several.yaml');
    } catch (caught: unknown) {
      error = caught;
    }
    assert.ok(error instanceof ConfigValidationError);
    assert.deepEqual(
      error.issues.map((issue) => issue.path),
      [
        'version',
        'kafka.brokers[0]',
        'systems.crm.connection.password',
        'systems.crm.tables[0].key',
        'systems.crm.tables[1].capture.batchSize',
        'systems.crm.tables[1].conflictPolicy',
      ],
    );
    const lines = error.message.split('\n');
    assert.equal(lines[0], 'Invalid pipeline file several.yaml (6 problems):');
    assert.equal(lines.length, 7);
    assert.equal(lines[4], '  systems.crm.tables[0].key: must not be empty (several.yaml:10:9)');
  });

  it('gives the file position of each problem', () => {
    const issue = issuesOf(yaml).find((candidate) => candidate.path === 'systems.crm.tables[1].conflictPolicy');
    assert.equal(issue?.line, 15);
    assert.equal(issue?.column, 9);
  });
});

describe('YAML syntax errors', () => {
  it('name the file, line and column', () => {
    const yaml = 'version: 1\nsystems:\n  crm:\n    dialect: postgres\n   connection: {}\n';
    const issues = issuesOf(yaml, 'syntax.yaml');
    assert.equal(issues.length > 0, true);
    assert.equal(issues[0]?.line, 5);
    assert.equal(issues[0]?.column, 1);
    assert.equal(issues[0]?.message, 'YAML syntax error: All mapping items must start at the same column');
    assert.throws(() => parsePipeline(yaml, 'syntax.yaml'), /\n {2}syntax\.yaml:5:1: YAML syntax error: /);
  });

  it('point into the line for an unclosed flow sequence', () => {
    const issues = issuesOf('version: 1\nsystems:\n  crm: { dialect: [postgres }\n');
    assert.deepEqual(
      issues.map((issue) => [issue.line, issue.column]),
      [
        [3, 29],
        [3, 30],
      ],
    );
  });

  it('reject duplicate keys', () => {
    const issues = issuesOf('version: 1\nversion: 1\nsystems: {}\n');
    assert.equal(issues[0]?.line, 2);
    assert.match(issues[0]?.message ?? '', /unique/);
  });

  it('report an unreadable file with its path', () => {
    assert.throws(() => loadPipelineFile('/nonexistent/pipeline.yaml'), /cannot read \/nonexistent\/pipeline\.yaml \(ENOENT\)/);
  });
});

describe('capture mode defaults', () => {
  it('fills the existing-changelog watermark, key columns and schema per dialect', () => {
    const pipeline = loadPipelineFile(join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'pipeline', 'valid.pipeline.yaml'));
    const customer = pipeline.systems.get('erp')?.tables[0];
    assert.deepEqual(customer?.capture, {
      mode: 'changelog',
      batchSize: 1000,
      pollIntervalMs: 500,
      snapshotChunkSize: 10_000,
      changelogTable: 'CustomerLog',
      positionColumns: ['LogVersion'],
      operationColumn: 'Op',
      operationValues: { insert: 1, update: 2, delete: 3 },
      keysOnly: true,
      changelogSchema: 'dbo',
      watermarkColumn: 'sync_rv',
      keyColumns: ['CustomerNo'],
    });
    assert.deepEqual(pipeline.systems.get('erp')?.tables[1]?.capture, { mode: 'cdc', batchSize: 1000, pollIntervalMs: 250, snapshotChunkSize: 10_000, captureInstance: 'sales_Order Line', resnapshotOnGap: false });
  });

  it('rejects a field of another capture mode, naming it', () => {
    assert.throws(
      () => parsePipeline(crm(`      - name: users
        key: [id]
        capture: { mode: trigger, watermarkColumn: rv }`), 'wrong-mode.yaml'),
      (err: unknown) => err instanceof ConfigValidationError && err.issues.some((i) => i.path === 'systems.crm.tables[0].capture.watermarkColumn'),
    );
  });
});

describe('legacyWriteback section', () => {
  it('defaults every setting and keeps the given ones', () => {
    assert.deepEqual(parsePipeline(crm(USERS), 'x.yaml').legacyWriteback, { foreignKeyAttempts: 3, parkedRetryMs: 30_000, parkTimeoutMs: 86_400_000, blockedRetryMs: 30_000, maxClockSkewMs: 300_000, inboxMaxAgeMs: 604_800_000, inboxPruneIntervalMs: 600_000, inboxPruneMarginMs: 60_000 });
    const given = parsePipeline(`${crm(USERS)}legacyWriteback: { parkedRetryMs: 2000, maxClockSkewMs: 60000 }\n`, 'x.yaml').legacyWriteback;
    assert.deepEqual(given, { foreignKeyAttempts: 3, parkedRetryMs: 2_000, parkTimeoutMs: 86_400_000, blockedRetryMs: 30_000, maxClockSkewMs: 60_000, inboxMaxAgeMs: 604_800_000, inboxPruneIntervalMs: 600_000, inboxPruneMarginMs: 60_000 });
  });

  it('names out-of-range and unknown settings', () => {
    const yaml = `${crm(USERS)}legacyWriteback: { parkedRetryMs: 10, foreignKeyAttempts: 0, parkTimeout: 5, maxClockSkewMs: -1 }\n`;
    assert.deepEqual(pathsOf(yaml).sort(), ['legacyWriteback.foreignKeyAttempts', 'legacyWriteback.maxClockSkewMs', 'legacyWriteback.parkTimeout', 'legacyWriteback.parkedRetryMs']);
    assert.match(messageAt(yaml, 'legacyWriteback.parkTimeout'), /did you mean parkTimeoutMs/);
  });

  it('validates the inbox retention settings', () => {
    const yaml = `${crm(USERS)}legacyWriteback: { inboxMaxAgeMs: 5, inboxKeepPerEntity: 0, inboxPruneIntervalMs: -1, inboxPruneMarginMs: 1.5 }\n`;
    assert.deepEqual(pathsOf(yaml).sort(), ['legacyWriteback.inboxKeepPerEntity', 'legacyWriteback.inboxMaxAgeMs', 'legacyWriteback.inboxPruneIntervalMs', 'legacyWriteback.inboxPruneMarginMs']);
    const given = parsePipeline(`${crm(USERS)}legacyWriteback: { inboxKeepPerEntity: 10000, inboxPruneIntervalMs: 0 }\n`, 'x.yaml').legacyWriteback;
    assert.equal(given.inboxKeepPerEntity, 10_000);
    assert.equal(given.inboxPruneIntervalMs, 0);
  });
});

describe('consumer-group prefixes', () => {
  // The default prefix is `id-translation`: writing it (or any Kafka-style name with "-" or ".")
  // used to be refused as "not a valid identifier"; docs/id-translation.md shows exactly that line.
  it('accept the defaults written out, and names with "-" and "."', () => {
    const p = parsePipeline(`${crm(USERS)}idTranslation: { groupPrefix: id-translation }\ndomainTransform: { groupPrefix: team-a.domain-transform }\n`, 'x.yaml');
    assert.equal(p.idTranslation.groupPrefix, 'id-translation');
    assert.equal(p.domainTransform.groupPrefix, 'team-a.domain-transform');
  });

  it('refuse empty, spaced or non-string prefixes, naming the path', () => {
    assert.match(messageAt(`${crm(USERS)}idTranslation: { groupPrefix: "" }\n`, 'idTranslation.groupPrefix'), /consumer-group prefix/);
    assert.match(messageAt(`${crm(USERS)}domainTransform: { groupPrefix: "a b" }\n`, 'domainTransform.groupPrefix'), /consumer-group prefix/);
    assert.match(messageAt(`${crm(USERS)}domainTransform: { groupPrefix: 7 }\n`, 'domainTransform.groupPrefix'), /not 7/);
  });
});

describe('capture.snapshotChunkSize', () => {
  const table = (capture: string): string => `      - name: users\n        key: [id]\n        capture: ${capture}`;

  it('defaults to 10000 in every mode and takes a value from 1 to 100000', () => {
    assert.equal(parsePipeline(crm(table('{ mode: trigger }')), 'x.yaml').systems.get('crm')?.tables[0]?.capture.snapshotChunkSize, 10_000);
    assert.equal(parsePipeline(crm(table('{ mode: trigger, snapshotChunkSize: 1 }')), 'x.yaml').systems.get('crm')?.tables[0]?.capture.snapshotChunkSize, 1);
    assert.equal(parsePipeline(crm(table('{ notify: false, snapshotChunkSize: 100000 }')), 'x.yaml').systems.get('crm')?.tables[0]?.capture.snapshotChunkSize, 100_000);
  });

  it('refuses 0, fractions, too large values and text, naming the path', () => {
    for (const bad of ['0', '2.5', '100001', 'lots']) {
      assert.match(messageAt(crm(table(`{ mode: trigger, snapshotChunkSize: ${bad} }`)), 'systems.crm.tables[0].capture.snapshotChunkSize'), /1|100000|integer/, bad);
    }
  });
});
