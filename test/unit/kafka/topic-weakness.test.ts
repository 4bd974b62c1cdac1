import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { weaknesses, type TopicRequirements } from '@sync/kafka';

const DAY = 86_400_000;
const command: TopicRequirements = { replicationFactor: 3, minInsyncReplicas: 2, cleanupPolicy: 'delete', retentionMs: 14 * DAY };
const strong = { cleanupPolicy: 'delete', retentionMs: String(14 * DAY), minInsyncReplicas: '2', replicas: 3 };

describe('topic weaknesses', () => {
  it('finds nothing when a topic meets or exceeds its requirements', () => {
    assert.deepEqual(weaknesses('t', command, strong), []);
    assert.deepEqual(weaknesses('t', command, { ...strong, retentionMs: '-1', minInsyncReplicas: '3', replicas: 5 }), []);
  });

  it('names each weaker setting with the actual and required values', () => {
    const found = weaknesses('t', command, { cleanupPolicy: 'compact,delete', retentionMs: String(DAY), minInsyncReplicas: '1', replicas: 1 });
    assert.deepEqual(found, [
      { topic: 't', setting: 'cleanup.policy', actual: 'compact,delete', required: 'delete' },
      { topic: 't', setting: 'retention.ms', actual: String(DAY), required: String(14 * DAY) },
      { topic: 't', setting: 'min.insync.replicas', actual: '1', required: '2' },
      { topic: 't', setting: 'replication.factor', actual: '1', required: '3' },
    ]);
  });

  it('requires a compacted topic to be compact only, whatever its retention', () => {
    const state: TopicRequirements = { replicationFactor: 1, minInsyncReplicas: 1, cleanupPolicy: 'compact' };
    assert.deepEqual(weaknesses('s', state, { cleanupPolicy: 'compact', retentionMs: '1000', minInsyncReplicas: '1', replicas: 1 }), []);
    assert.deepEqual(
      weaknesses('s', state, { cleanupPolicy: 'delete', retentionMs: '1000', minInsyncReplicas: '1', replicas: 1 }).map((w) => w.setting),
      ['cleanup.policy'],
    );
  });

  it('treats a forever requirement as met only by forever', () => {
    const forever: TopicRequirements = { replicationFactor: 1, minInsyncReplicas: 1, cleanupPolicy: 'delete', retentionMs: -1 };
    assert.deepEqual(weaknesses('f', forever, { ...strong, retentionMs: '-1', minInsyncReplicas: '1', replicas: 1 }), []);
    assert.deepEqual(weaknesses('f', forever, { ...strong, minInsyncReplicas: '1', replicas: 1 }).map((w) => w.setting), ['retention.ms']);
  });
});
