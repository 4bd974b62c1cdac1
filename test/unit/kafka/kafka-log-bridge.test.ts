import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kafkaLogBridge, type LogSink } from '@sync/kafka';

function sink(): { lines: Array<[string, Record<string, unknown>, string | undefined]>; log: LogSink } {
  const lines: Array<[string, Record<string, unknown>, string | undefined]> = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push([level, obj as Record<string, unknown>, msg]);
  return { lines, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('kafkajs log lines in the app log', () => {
  it('drops the false exactly-once warning to debug', () => {
    const { lines, log } = sink();
    kafkaLogBridge(log)({ namespace: 'Producer', level: 'warn', message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees', fields: {} });
    assert.deepEqual(lines.map((l) => l[0]), ['debug']);
  });

  it('reports a failed seed-broker connection once, as a warning with its cause, not as two errors', () => {
    const { lines, log } = sink();
    const bridge = kafkaLogBridge(log);
    for (let retryCount = 0; retryCount < 3; retryCount++) {
      bridge({ namespace: 'Connection', level: 'error', message: 'Connection error: connect ECONNREFUSED 127.0.0.1:1', fields: { broker: '127.0.0.1:1', stack: 'Error: connect ...', timestamp: 'x', logger: 'kafkajs' } });
      bridge({ namespace: 'BrokerPool', level: 'error', message: 'Failed to connect to seed broker, trying another broker from the list: connect ECONNREFUSED', fields: { retryCount, retryTime: 300 } });
    }
    const shown = lines.filter((l) => l[0] !== 'debug');
    assert.equal(shown.length, 3, 'one line per attempt');
    for (const [level, obj, msg] of shown) {
      assert.equal(level, 'warn');
      assert.equal(msg, 'cannot connect to a seed broker, retrying');
      assert.equal(obj['error'], 'connect ECONNREFUSED 127.0.0.1:1');
      assert.equal(obj['broker'], '127.0.0.1:1');
    }
  });

  it('passes every other line at its level, without kafkajs\' copies of time and logger name', () => {
    const { lines, log } = sink();
    kafkaLogBridge(log)({ namespace: 'Consumer', level: 'error', message: 'Crash: KafkaJSNumberOfRetriesExceeded', fields: { groupId: 'g', timestamp: 't', logger: 'kafkajs' } });
    assert.deepEqual(lines, [['error', { component: 'kafkajs', namespace: 'Consumer', groupId: 'g' }, 'Crash: KafkaJSNumberOfRetriesExceeded']]);
  });
});
