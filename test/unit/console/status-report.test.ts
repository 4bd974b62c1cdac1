import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadEnv, parsePipeline } from '@sync/config';
import { ControlState } from '@sync/control';
import { parsePrometheusText } from '@sync/observability';
import { buildStatusReport } from '../../../apps/console/src/status-report';

const PIPELINE = parsePipeline(
  `version: 1
systems:
  crm:
    dialect: postgres
    connection:
      url: { env: CRM_URL }
    tables:
      - name: users
        key: [id]
      - name: orders
        key: [id]
`,
  'test',
);

const METRICS = `# HELP sync_capture_lag_seconds x
# TYPE sync_capture_lag_seconds gauge
sync_capture_lag_seconds{entity="crm.public.users",app="legacy-import"} 1.5
sync_capture_rows_total{entity="crm.public.users",op="r",app="legacy-import"} 40
sync_capture_rows_total{entity="crm.public.users",op="c",app="legacy-import"} 3
sync_capture_snapshot_rows{entity="crm.public.users",app="legacy-import"} 25
sync_capture_last_change_timestamp_seconds{entity="crm.public.users",app="legacy-import"} 1765000000.5
sync_capture_entity_stopped{entity="crm.public.orders",app="legacy-import"} 1
sync_consumer_lag_messages{group="g",topic="legacy.crm.public.users",partition="0",app="id-translation"} 4
sync_consumer_lag_messages{group="g",topic="legacy.crm.public.users",partition="1",app="id-translation"} 6
sync_consumer_lag_messages{group="h",topic="resolved.crm.public.users",partition="0",app="legacy-writeback"} 2
sync_consumer_lag_messages{group="h",topic="domain.user.v1",partition="0",app="domain-transform"} 9
http_label_escapes{path="a\\"b,c",app="x"} +Inf
`;

describe('status console report', () => {
  it('parses the Prometheus text the apps serve, labels with escapes included, and names a bad line', () => {
    const samples = parsePrometheusText(METRICS);
    assert.equal(samples.length, 11);
    assert.deepEqual(samples.at(-1), { name: 'http_label_escapes', labels: { path: 'a"b,c', app: 'x' }, value: Infinity });
    assert.throws(() => parsePrometheusText('ok 1\nnot a sample line here\n'), /metrics line 2/);
  });

  it('puts each figure on its entity: switches, phase, capture lag, consumer lag per app, dead letters, last verify', () => {
    const control = new ControlState();
    control.apply({ entity: 'crm.public.users', direction: 'new-to-legacy', state: 'paused', by: 't', at: '2026-01-01T00:00:00Z', reason: '' });
    const report = buildStatusReport(PIPELINE, {
      now: new Date('2026-01-01T00:00:10Z'),
      caughtUp: true,
      control,
      phases: new Map([['crm.public.users', 'snapshot']]),
      verify: new Map([['crm.public.orders', { kind: 'verify', entity: 'crm.public.orders', at: '2026-01-01T00:00:00Z', by: 't', agree: true, differences: 0, legacyRows: 3, newRows: 3 }]]),
      deadLetters: new Map([
        ['crm.public.users', new Map([['legacy-writeback: data', 2]])],
        ['', new Map([['domain-transform: schema', 1]])],
      ]),
      legacyEvents: new Map([['crm.public.users', 43]]),
      apps: [{ app: 'legacy-import', url: 'http://x', up: true }],
      samples: parsePrometheusText(METRICS),
    });
    const [users, orders] = report.entities;
    assert.equal(users!.entity, 'crm.public.users');
    assert.equal(users!.legacyToNew, 'enabled');
    assert.equal(users!.newToLegacy, 'paused');
    assert.deepEqual(users!.capture, { phase: 'snapshot', snapshotRows: 25, lagSeconds: 1.5, backlogRows: null, stopped: false });
    assert.deepEqual(users!.consumerLag, { 'id-translation': 10, 'legacy-writeback': 2 });
    assert.equal(users!.lastChangeAt, new Date(1765000000500).toISOString());
    assert.deepEqual(users!.deadLetters, { 'legacy-writeback: data': 2 });
    assert.equal(users!.legacyEvents, 43);
    assert.equal(users!.lastVerify, null);
    assert.equal(orders!.capture.phase, 'not started');
    assert.equal(orders!.capture.stopped, true);
    assert.equal(orders!.lastVerify?.agree, true);
    assert.equal(orders!.legacyEvents, null, 'unknown, not zero');
    assert.deepEqual(report.otherDeadLetters, { 'domain-transform: schema': 1 });
  });

  it('CONSOLE_METRICS_URLS: app=url pairs, every bad entry named', () => {
    assert.deepEqual(loadEnv({ CONSOLE_METRICS_URLS: 'legacy-import=http://li:8081/, id-translation=https://it:8082' }).console.metricsUrls, { 'legacy-import': 'http://li:8081', 'id-translation': 'https://it:8082' });
    assert.equal(loadEnv({}).console.metricsUrls, undefined);
    assert.throws(() => loadEnv({ CONSOLE_METRICS_URLS: 'http://li:8081' }), /CONSOLE_METRICS_URLS.*start with the app name/);
    assert.throws(() => loadEnv({ CONSOLE_METRICS_URLS: 'a=ftp://x, a=http://y' }), (err: Error) => /CONSOLE_METRICS_URLS/.test(err.message) || /not an http/.test(JSON.stringify(err)));
  });
});
