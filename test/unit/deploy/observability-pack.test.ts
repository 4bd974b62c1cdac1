import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { renderKustomize, repoPath, type K8sObject } from './deploy-support';

const PACK = 'deploy/monitoring';

interface Query {
  readonly where: string;
  readonly expr: string;
}

/** Metric names, grouping labels and matcher labels a PromQL expression uses; throws on a syntax error. */
function parsePromQL(q: Query): { metrics: string[]; labels: string[] } {
  const tree = parser.parse(q.expr);
  const metrics: string[] = [];
  const labels: string[] = [];
  const errors: number[] = [];
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.push(q.expr.slice(node.from, node.to));
      if (node.name === 'LabelName') labels.push(q.expr.slice(node.from, node.to));
    },
  });
  if (errors.length > 0) throw new Error(`${q.where}: PromQL syntax error at ${errors.map((at) => `offset ${at} ("${q.expr.slice(at, at + 20)}")`).join(', ')} in: ${q.expr}`);
  return { metrics, labels };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

/** Every metric the apps register: the names given to the registry in apps/ and libs/, plus prom-client's process metrics. */
async function registeredMetrics(): Promise<Set<string>> {
  const names = new Set<string>(['up']); // Prometheus' own per-target series
  const registration = /\.(counter|gauge|histogram)(?:<[^>]*>)?\(\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'|\bname: '([a-zA-Z_:][a-zA-Z0-9_:]*)'/g;
  for (const file of [...sourceFiles(repoPath('apps')), ...sourceFiles(repoPath('libs'))]) {
    for (const m of readFileSync(file, 'utf8').matchAll(registration)) {
      const name = m[2] ?? m[3]!;
      const histogram = m[1] === 'histogram';
      names.add(name);
      if (histogram) for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    }
  }
  // Histograms registered through `name:` (none today) would need their suffixes too.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (metric.type === 'histogram' as unknown) for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

interface Panel {
  type: string;
  title: string;
  id: number;
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: Array<{ refId: string; expr: string }>;
}

function dashboard(): { title: string; uid: string; panels: Panel[]; templating: { list: Array<{ name: string }> } } {
  return JSON.parse(readFileSync(repoPath(PACK, 'grafana', 'legacy-sync.dashboard.json'), 'utf8')) as ReturnType<typeof dashboard>;
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string };
}

function rules(): Rule[] {
  const doc = parseYaml(readFileSync(repoPath(PACK, 'prometheusrule.yaml'), 'utf8')) as { kind: string; spec: { groups: Array<{ name: string; rules: Rule[] }> } };
  assert.equal(doc.kind, 'PrometheusRule');
  return doc.spec.groups.flatMap((g) => g.rules);
}

function queries(): Query[] {
  const fromDashboard = dashboard().panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `dashboard panel "${p.title}" ${t.refId}`, expr: t.expr })));
  const fromRules = rules().map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }));
  return [...fromDashboard, ...fromRules];
}

describe(`observability pack (${PACK})`, () => {
  it('the dashboard is JSON with unique panel ids, a position for each panel and a query for each graph', () => {
    const d = dashboard();
    assert.equal(d.uid, 'legacy-sync');
    const ids = d.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of d.panels) {
      assert.ok(p.gridPos, `${p.title}: gridPos`);
      if (p.type !== 'row') assert.ok((p.targets ?? []).length > 0 && p.targets!.every((t) => t.expr.trim() !== ''), `${p.title}: has queries`);
    }
    assert.deepEqual(d.templating.list.map((v) => v.name).sort(), ['datasource', 'entity']);
    const titles = d.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const topic of ['per second', 'capture lag', 'consumer lag', 'dead letters', 'write-back batch duration', 'entity state']) assert.ok(titles.includes(topic), `a panel about ${topic}`);
  });

  it('every PromQL expression of the dashboard and the alerts parses (Prometheus\' own lezer grammar)', () => {
    const all = queries();
    assert.ok(all.length >= 25, `found ${all.length} expressions`);
    for (const q of all) parsePromQL(q);
    // The check can fail: a broken expression is reported.
    assert.throws(() => parsePromQL({ where: 'self-test', expr: 'sum by (entity (rate(sync_capture_rows_total[5m]))' }), /syntax error/);
  });

  it('every metric they name is one the apps register, and no label says table (renamed to entity)', async () => {
    const known = await registeredMetrics();
    for (const expected of ['sync_capture_lag_seconds', 'sync_consumer_lag_messages', 'sync_writeback_batch_seconds_bucket', 'process_cpu_seconds_total']) assert.ok(known.has(expected), `the scan finds ${expected}`);
    const unknown: string[] = [];
    for (const q of queries()) {
      const { metrics, labels } = parsePromQL(q);
      assert.ok(metrics.length > 0, `${q.where}: names a metric`);
      for (const m of metrics) if (!known.has(m)) unknown.push(`${q.where}: ${m}`);
      assert.ok(!labels.includes('table'), `${q.where}: uses the label "table"; it is "entity" since the rename`);
    }
    assert.deepEqual(unknown, [], 'metrics not registered by any app');
  });

  it('alerts cover lag, dead letters, stuck entities, apps not running and growth, each with a severity and a summary', () => {
    const all = rules();
    const names = all.map((r) => r.alert);
    assert.equal(new Set(names).size, names.length, 'alert names are unique');
    for (const r of all) {
      assert.ok(['warning', 'critical'].includes(r.labels.severity), `${r.alert}: severity`);
      assert.ok(r.annotations.summary.length > 0, `${r.alert}: summary`);
      if (r.for !== undefined) assert.match(r.for, /^\d+[smh]$/, `${r.alert}: for`);
    }
    for (const required of ['LegacySyncCaptureLagHigh', 'LegacySyncConsumerLagHigh', 'LegacySyncDeadLettersGrowing', 'LegacySyncEntityStopped', 'LegacySyncCaptureStuck', 'LegacySyncAppNotRunning', 'LegacySyncKafkaDisconnected', 'LegacySyncChangelogGrowing', 'LegacySyncKafkaTopicWeaker']) {
      assert.ok(names.includes(required), `alert ${required}`);
    }
  });

  it('renders with kustomize; the ServiceMonitor selects every app Service of the base on its http port', () => {
    const objects = renderKustomize(repoPath(PACK));
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(kinds, ['ConfigMap/legacy-sync-grafana-dashboard', 'PrometheusRule/legacy-sync', 'ServiceMonitor/legacy-sync']);
    const cm = objects.find((o) => o.kind === 'ConfigMap')!;
    assert.equal((cm.metadata as { labels?: Record<string, string> }).labels?.['grafana_dashboard'], '1');
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor') as K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> } };
    assert.deepEqual(monitor.spec.endpoints.map((e) => [e.port, e.path]), [['http', '/metrics']]);
    const services = renderKustomize(repoPath('deploy/k8s/base')).filter((o) => o.kind === 'Service') as Array<K8sObject & { metadata: { labels: Record<string, string> }; spec: { ports: Array<{ name: string }> } }>;
    assert.ok(services.length >= 4);
    for (const s of services) {
      const selected = Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels[k] === v);
      assert.ok(selected, `Service ${s.metadata.name} is scraped`);
      assert.ok(s.spec.ports.some((p) => p.name === 'http'), `Service ${s.metadata.name} has a port named http`);
    }
  });
});
