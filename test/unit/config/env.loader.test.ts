import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigValidationError, describeEnv, loadEnv, type ConfigIssue } from '@sync/config';

const KEYMAP_URL = 'postgres://keymap:s3cr3t-pw@127.0.0.1:5432/keymap';

function issuesOf(run: () => unknown): readonly ConfigIssue[] {
  try {
    run();
  } catch (error: unknown) {
    assert.ok(error instanceof ConfigValidationError, String(error));
    return error.issues;
  }
  assert.fail('expected a ConfigValidationError');
}

describe('KAFKA_MAX_MESSAGE_BYTES', () => {
  it('sets legacy-import\'s record size limit, and rejects what is not an integer in range naming the variable', () => {
    assert.equal(loadEnv({ KAFKA_MAX_MESSAGE_BYTES: '2097152' }).kafka.maxMessageBytes, 2_097_152);
    assert.throws(() => loadEnv({ KAFKA_MAX_MESSAGE_BYTES: '1MB' }), /KAFKA_MAX_MESSAGE_BYTES/);
    assert.throws(() => loadEnv({ KAFKA_MAX_MESSAGE_BYTES: '10' }), /KAFKA_MAX_MESSAGE_BYTES/);
  });
});

describe('legacy-import lease settings', () => {
  it('reads the lease topic, group and session timeout', () => {
    const env = loadEnv({ LEGACY_IMPORT_LEASE_TOPIC: 'crm.import-leases', LEGACY_IMPORT_LEASE_GROUP: 'crm-importers', LEGACY_IMPORT_LEASE_SESSION_TIMEOUT_MS: '30000' });
    assert.deepEqual({ ...env.leases }, { topic: 'crm.import-leases', group: 'crm-importers', sessionTimeoutMs: 30_000 });
  });

  it('rejects an illegal topic name and a session timeout the broker would refuse, naming each variable', () => {
    const issues = issuesOf(() => loadEnv({ LEGACY_IMPORT_LEASE_TOPIC: 'leases/crm', LEGACY_IMPORT_LEASE_GROUP: ' ', LEGACY_IMPORT_LEASE_SESSION_TIMEOUT_MS: '2000' }));
    assert.deepEqual(issues.map((i) => i.path).sort(), ['LEGACY_IMPORT_LEASE_GROUP', 'LEGACY_IMPORT_LEASE_SESSION_TIMEOUT_MS', 'LEGACY_IMPORT_LEASE_TOPIC']);
    const big = issuesOf(() => loadEnv({ LEGACY_IMPORT_LEASE_SESSION_TIMEOUT_MS: '10s' }));
    assert.equal(big[0]!.path, 'LEGACY_IMPORT_LEASE_SESSION_TIMEOUT_MS');
  });
});

describe('LOG_LEVEL_MODULES', () => {
  it('sets a level per module, and names every bad entry', () => {
    assert.deepEqual(loadEnv({ LOG_LEVEL_MODULES: 'kafkajs=error, nest=debug' }).log.modules, { kafkajs: 'error', nest: 'debug' });
    assert.equal(loadEnv({}).log.modules, undefined);
    const issues = issuesOf(() => loadEnv({ LOG_LEVEL_MODULES: 'kafka=warn,app=loud,nest=info,nest=warn' }));
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.path, 'LOG_LEVEL_MODULES');
    assert.match(issues[0]!.message, /"kafka=warn"; "app=loud"; "nest" is named twice/);
    assert.match(issues[0]!.message, /modules: app, kafkajs, nest/);
  });
});

describe('loadEnv defaults', () => {
  it('applies every default for a CLI with an empty environment', () => {
    const env = loadEnv({});
    assert.deepEqual(JSON.parse(JSON.stringify(env)), {
      pipelineFile: './pipeline.yaml',
      http: { host: '0.0.0.0', port: 8080 },
      kafka: { maxMessageBytes: 1_048_588, allowPlaintextSasl: false, accessFailureExitMs: 60_000 },
      keymap: {},
      log: { level: 'info' },
      admin: {},
      shutdown: { timeoutMs: 30_000 },
      liveness: { consumerStallMs: 300_000 },
      metrics: { consumerLagRefreshMs: 15_000 },
      console: {},
      syncCtl: {},
      leases: { sessionTimeoutMs: 10_000 },
      memory: { heapGrowingPercent: 100 },
    });
    assert.equal(env.app, undefined);
    assert.equal(env.kafka.brokers, undefined);
  });

  it('reads CONSUMER_STALL_TIMEOUT_MS and rejects a value below 1 s', () => {
    assert.equal(loadEnv({ CONSUMER_STALL_TIMEOUT_MS: '60000' }).liveness.consumerStallMs, 60_000);
    assert.throws(() => loadEnv({ CONSUMER_STALL_TIMEOUT_MS: '10' }), /CONSUMER_STALL_TIMEOUT_MS/);
  });

  it('picks the HTTP port per app', () => {
    assert.equal(loadEnv({ SYNC_APP: 'legacy-import' }).http.port, 8081);
    assert.equal(loadEnv({ SYNC_APP: 'id-translation', KEYMAP_DATABASE_URL: KEYMAP_URL }).http.port, 8082);
    assert.equal(loadEnv({ SYNC_APP: 'domain-transform' }).http.port, 8083);
    assert.equal(loadEnv({ SYNC_APP: 'legacy-writeback' }).http.port, 8084);
    assert.equal(loadEnv({ SYNC_APP: 'legacy-writeback', HTTP_PORT: '9000' }).http.port, 9000);
  });

  it('treats empty variables as unset', () => {
    const env = loadEnv({ HTTP_PORT: '', LOG_LEVEL: '', KAFKA_BROKERS: '' });
    assert.equal(env.http.port, 8080);
    assert.equal(env.log.level, 'info');
    assert.equal(env.kafka.brokers, undefined);
  });

  it('parses and groups the given values, frozen', () => {
    const env = loadEnv({
      SYNC_APP: 'domain-transform',
      PIPELINE_FILE: '/etc/sync/pipeline.yaml',
      HTTP_HOST: '127.0.0.1',
      KAFKA_BROKERS: ' kafka-0:9092, kafka-1:9092 ,[::1]:9093',
      KAFKA_CLIENT_ID: 'dt',
      LOG_LEVEL: 'debug',
      SHUTDOWN_TIMEOUT_MS: '5000',
      CONSUMER_LAG_REFRESH_MS: '60000',
    });
    assert.equal(env.app, 'domain-transform');
    assert.equal(env.pipelineFile, '/etc/sync/pipeline.yaml');
    assert.deepEqual(env.http, { host: '127.0.0.1', port: 8083 });
    assert.deepEqual(env.kafka, { brokers: ['kafka-0:9092', 'kafka-1:9092', '[::1]:9093'], clientId: 'dt', client: undefined, maxMessageBytes: 1_048_588, allowPlaintextSasl: false, accessFailureExitMs: 60_000 });
    assert.equal(env.log.level, 'debug');
    assert.equal(env.shutdown.timeoutMs, 5000);
    assert.equal(env.metrics.consumerLagRefreshMs, 60_000);
    assert.ok(Object.isFrozen(env) && Object.isFrozen(env.http) && Object.isFrozen(env.kafka.brokers));
  });
});

describe('loadEnv errors', () => {
  it('lists every bad variable at once', () => {
    const issues = issuesOf(() =>
      loadEnv({
        SYNC_APP: 'importer',
        HTTP_PORT: '99999',
        KAFKA_BROKERS: 'localhost',
        LOG_LEVEL: 'verbose',
        SHUTDOWN_TIMEOUT_MS: 'soon',
        HTTP_HOST: 'fine',
      }),
    );
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ['SYNC_APP', 'HTTP_PORT', 'KAFKA_BROKERS', 'LOG_LEVEL', 'SHUTDOWN_TIMEOUT_MS'],
    );
    assert.equal(
      issues[0]?.message,
      'must be one of legacy-import, id-translation, domain-transform, legacy-writeback, not the string "importer"',
    );
    assert.equal(issues[1]?.message, 'must be an integer from 1 to 65535, not the string "99999"');
  });

  it('bounds CONSUMER_LAG_REFRESH_MS (a read of every group offset more than once a second is a load, not a metric)', () => {
    assert.deepEqual(issuesOf(() => loadEnv({ CONSUMER_LAG_REFRESH_MS: '500' })), [
      { path: 'CONSUMER_LAG_REFRESH_MS', message: 'must be an integer from 1000 to 3600000, not the string "500"' },
    ]);
  });

  it('reads HEAP_GROWING_PERCENT from 0 (V8 decides) to 300, 100 when unset', () => {
    assert.equal(loadEnv({}).memory.heapGrowingPercent, 100);
    assert.equal(loadEnv({ HEAP_GROWING_PERCENT: '0' }).memory.heapGrowingPercent, 0);
    assert.equal(loadEnv({ HEAP_GROWING_PERCENT: '30' }).memory.heapGrowingPercent, 30);
    for (const bad of ['301', '-5', '1.5', 'small']) {
      assert.deepEqual(issuesOf(() => loadEnv({ HEAP_GROWING_PERCENT: bad })), [
        { path: 'HEAP_GROWING_PERCENT', message: `must be an integer from 0 to 300, not the string "${bad}"` },
      ]);
    }
  });

  it('requires KEYMAP_DATABASE_URL for id-translation only', () => {
    const issues = issuesOf(() => loadEnv({ SYNC_APP: 'id-translation' }));
    assert.deepEqual(issues, [{ path: 'KEYMAP_DATABASE_URL', message: 'is required when SYNC_APP is id-translation' }]);
    assert.equal(loadEnv({ SYNC_APP: 'legacy-import' }).keymap.databaseUrl, undefined);
    assert.equal(loadEnv({ SYNC_APP: 'id-translation', KEYMAP_DATABASE_URL: KEYMAP_URL }).keymap.databaseUrl?.reveal(), KEYMAP_URL);
  });

  it('never echoes a sensitive value in an error', () => {
    const bad = 'mysql://root:t0p-s3cret@db/keymap';
    let message = '';
    try {
      loadEnv({ SYNC_APP: 'id-translation', KEYMAP_DATABASE_URL: bad });
    } catch (error: unknown) {
      assert.ok(error instanceof ConfigValidationError);
      message = error.message;
    }
    assert.match(message, /KEYMAP_DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    assert.ok(!message.includes('t0p-s3cret'));
  });

  it('takes the app from the entry point, which SYNC_APP must agree with', () => {
    const env = loadEnv({}, { app: 'legacy-writeback' });
    assert.equal(env.app, 'legacy-writeback');
    assert.equal(env.http.port, 8084);
    assert.deepEqual(
      issuesOf(() => loadEnv({}, { app: 'id-translation' })).map((issue) => issue.path),
      ['KEYMAP_DATABASE_URL'],
    );
    assert.deepEqual(issuesOf(() => loadEnv({ SYNC_APP: 'legacy-import' }, { app: 'legacy-writeback' })), [
      { path: 'SYNC_APP', message: 'is legacy-import, but this process is legacy-writeback' },
    ]);
  });

  it('requires SYNC_APP when asked to', () => {
    assert.deepEqual(
      issuesOf(() => loadEnv({}, { requireApp: true })).map((issue) => issue.path),
      ['SYNC_APP'],
    );
  });

  it('reads ADMIN_TOKEN_FILE, and rejects it together with ADMIN_TOKEN', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'config-env-')), 'token');
    writeFileSync(file, 'tok-from-file\n');
    assert.equal(loadEnv({ ADMIN_TOKEN_FILE: file }).admin.token?.reveal(), 'tok-from-file');
    assert.equal(loadEnv({ ADMIN_TOKEN: 'tok' }).admin.token?.reveal(), 'tok');
    assert.deepEqual(
      issuesOf(() => loadEnv({ ADMIN_TOKEN: 'tok', ADMIN_TOKEN_FILE: file })).map((issue) => issue.path),
      ['ADMIN_TOKEN_FILE'],
    );
    assert.deepEqual(issuesOf(() => loadEnv({ ADMIN_TOKEN_FILE: `${file}.missing` })), [
      { path: 'ADMIN_TOKEN_FILE', message: `cannot read secret file ${file}.missing (ENOENT)` },
    ]);
  });
});

describe('describeEnv', () => {
  it('prints the effective settings with sensitive values masked', () => {
    const env = loadEnv({ SYNC_APP: 'id-translation', KEYMAP_DATABASE_URL: KEYMAP_URL, ADMIN_TOKEN: 'admin-tok-123' });
    const description = describeEnv(env);
    assert.deepEqual(description, {
      app: 'id-translation',
      pipelineFile: './pipeline.yaml',
      'http.host': '0.0.0.0',
      'http.port': '8082',
      'kafka.brokers': '(not set)',
      'kafka.clientId': '(not set)',
      'kafka.client': '(not set)',
      'kafka.maxMessageBytes': '1048588',
      'kafka.allowPlaintextSasl': 'false',
      'kafka.accessFailureExitMs': '60000',
      'keymap.databaseUrl': '***',
      'liveness.consumerStallMs': '300000',
      'log.level': 'info',
      'admin.token': '***',
      'shutdown.timeoutMs': '30000',
      'metrics.consumerLagRefreshMs': '15000',
      'console.metricsUrls': '(not set)',
      'syncCtl.connectTimeoutMs': '(not set)',
      'leases.topic': '(not set)',
      'leases.group': '(not set)',
      'leases.sessionTimeoutMs': '10000',
      'memory.heapGrowingPercent': '100',
      'log.modules': '(not set)',
    });
    const printed = JSON.stringify(description) + JSON.stringify(env);
    assert.ok(!printed.includes('s3cr3t-pw') && !printed.includes('admin-tok-123'));
  });
});
