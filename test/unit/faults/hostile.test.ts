import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyDeadLetters, type DeadLetter, type HostileValue } from '../../../scripts/faults/hostile';

const letter = (topic: string, offset: string, text: string): DeadLetter => ({ topic, partition: 0, offset, text, reason: 'r' });

describe('faults: expected and unexpected dead letters', () => {
  const oversize: HostileValue = { kind: 'oversize-legacy-row', key: '12', expectedTopic: 'dlq.legacy-import', legacyId: 12 };
  const nul: HostileValue = { kind: 'nul-in-ce-subject', key: 'faults-hostile-nul-subject-1', expectedTopic: undefined };

  it('matches each hostile value to one dead letter naming its key on its topic; every other dead letter is unexpected', () => {
    const letters = [
      letter('dlq.legacy-import', '0', '{"entity":"users","key":{"id":12},"size":2097152}'),
      letter('dlq.id-translation', '0', 'key\nvalue\nce_id=faults-hostile-nul-subject-1'),
      letter('dlq.legacy-writeback', '3', 'ce_id=some-good-command'),
    ];
    const report = classifyDeadLetters([oversize, nul], letters);
    assert.deepEqual(report.expected.map((e) => e.found?.topic), ['dlq.legacy-import', 'dlq.id-translation']);
    assert.deepEqual(report.unexpected.map((u) => u.topic), ['dlq.legacy-writeback']);
  });

  it('does not take a dead letter on another topic, or a longer number, for a hostile one; a second copy is unexpected', () => {
    const letters = [
      letter('dlq.legacy-writeback', '0', '{"id":12}'),
      letter('dlq.legacy-import', '1', '{"id":120}'),
      letter('dlq.new-service', '0', 'ce_id=faults-hostile-nul-subject-1'),
      letter('dlq.id-translation', '0', 'ce_id=faults-hostile-nul-subject-1'),
    ];
    const report = classifyDeadLetters([oversize, nul], letters);
    assert.equal(report.expected[0]!.found, undefined);
    assert.equal(report.expected[1]!.found?.topic, 'dlq.new-service');
    assert.equal(report.unexpected.length, 3);
  });
});
