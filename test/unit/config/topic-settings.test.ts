import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigValidationError, parsePipeline, TOPIC_RETENTION_HOURS, type ConfigIssue } from '@sync/config';
import { topicClass, topicPolicy, Topics } from '@sync/contracts';

const BASE = `version: 1
systems:
  crm:
    dialect: postgres
    connection: { url: { env: CRM_DATABASE_URL } }
    tables:
      - name: users
        key: [id]
`;

function issuesOf(topics: string): readonly ConfigIssue[] {
  try {
    parsePipeline(`${BASE}kafka:\n  topics: ${topics}\n`, 'topics.yaml');
  } catch (error: unknown) {
    assert.ok(error instanceof ConfigValidationError, `expected ConfigValidationError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail(`expected kafka.topics ${topics} to be refused`);
}

const HOUR = 3_600_000;

describe('kafka.topics settings', () => {
  it('defaults every retention class and leaves replication to the broker count', () => {
    const { kafka } = parsePipeline(BASE, 'topics.yaml');
    assert.deepEqual(kafka.topics, { retentionHours: TOPIC_RETENTION_HOURS });
    assert.deepEqual(TOPIC_RETENTION_HOURS, { technical: 168, domain: 720, commands: 336, deadLetter: 720, audit: 2160 });
  });

  it('takes replication, min.insync.replicas and retention per class from the file', () => {
    const { kafka } = parsePipeline(`${BASE}kafka:\n  topics: { replicationFactor: 3, minInsyncReplicas: 2, retentionHours: { commands: 720, technical: 24 } }\n`, 'topics.yaml');
    assert.deepEqual(kafka.topics, {
      replicationFactor: 3,
      minInsyncReplicas: 2,
      retentionHours: { ...TOPIC_RETENTION_HOURS, commands: 720, technical: 24 },
    });
  });

  it('refuses bad values, naming the config path', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['{ retentionHours: { commands: 12 } }', 'kafka.topics.retentionHours.commands', /from 24 to 876000, not 12/],
      ['{ retentionHours: { domain: 0 } }', 'kafka.topics.retentionHours.domain', /from 1 to 876000/],
      ['{ retentionHours: { dlq: 10 } }', 'kafka.topics.retentionHours.dlq', /./],
      ['{ retentionHours: 168 }', 'kafka.topics.retentionHours', /./],
      ['{ minInsyncReplicas: 0 }', 'kafka.topics.minInsyncReplicas', /from 1 to 32/],
      ['{ minInsyncReplicas: two }', 'kafka.topics.minInsyncReplicas', /integer/],
      ['{ replicationFactor: 2, minInsyncReplicas: 3 }', 'kafka.topics.minInsyncReplicas', /must not exceed replicationFactor \(2\), not 3/],
    ];
    for (const [topics, path, message] of cases) {
      const issue = issuesOf(topics).find((i) => i.path === path);
      assert.ok(issue, `${topics}: no issue at ${path} (got ${JSON.stringify(issuesOf(topics))})`);
      assert.match(issue.message, message, topics);
    }
  });
});

describe('topic classes', () => {
  const users = { system: 'crm', schema: 'public', table: 'users' };

  it('classifies every topic the suite names', () => {
    assert.equal(topicClass(Topics.legacy(users)), 'technical');
    assert.equal(topicClass(Topics.keyed(users)), 'technical');
    assert.equal(topicClass(Topics.domain('customer', 1)), 'domain');
    assert.equal(topicClass(Topics.writeback(users)), 'commands');
    assert.equal(topicClass(Topics.resolved(users)), 'commands');
    assert.equal(topicClass(Topics.idmapLinks), 'commands');
    assert.equal(topicClass(Topics.dlq('legacy-import')), 'deadLetter');
    assert.equal(topicClass(Topics.controlHistory), 'audit');
    assert.equal(topicClass(Topics.conflicts), 'audit');
    for (const t of [Topics.control, Topics.offsets, Topics.status]) assert.equal(topicClass(t), 'compacted');
  });

  it('turns the settings into cleanup policy and retention.ms per topic', () => {
    const { kafka } = parsePipeline(`${BASE}kafka:\n  topics: { retentionHours: { commands: 48 } }\n`, 'topics.yaml');
    const policy = topicPolicy(kafka.topics);
    assert.equal(policy.partitions, 1);
    assert.equal(policy.replicationFactor, undefined, 'absent: min(3, brokers) at creation');
    assert.deepEqual(policy.classify(Topics.writeback(users)), { cleanupPolicy: 'delete', retentionMs: 48 * HOUR });
    assert.deepEqual(policy.classify(Topics.legacy(users)), { cleanupPolicy: 'delete', retentionMs: 168 * HOUR });
    assert.deepEqual(policy.classify(Topics.control), { cleanupPolicy: 'compact' });
  });
});
