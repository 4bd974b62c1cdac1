import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planFaults } from '../../../scripts/faults/fault-schedule';
import { loadFaultsConfig, repeatCommand } from '../../../scripts/faults/faults-config';
import { faultsPipelineYaml } from '../../../scripts/faults/faults-pipeline';
import { parseReplicas, replicaNames, replicatedApps } from '../../../scripts/faults/replicas';

const APPS = ['legacy-import', 'id-translation', 'domain-transform', 'legacy-writeback'];
const base = { FAULTS_PG_URL: 'postgres://x', KAFKA_BROKERS: 'k:1', FAULTS_RUN_DIR: '/tmp/x', FAULTS_SEED: '5' };

describe('faults: replicas', () => {
  it('parses app=n, keeping 1 for apps not named, and names every replica process', () => {
    const { counts, problems } = parseReplicas('id-translation=2, legacy-writeback=3');
    assert.deepEqual(problems, []);
    assert.deepEqual(counts, { 'legacy-import': 1, 'id-translation': 2, 'domain-transform': 1, 'legacy-writeback': 3 });
    assert.deepEqual(replicaNames(counts), ['legacy-import', 'id-translation', 'id-translation-2', 'domain-transform', 'legacy-writeback', 'legacy-writeback-2', 'legacy-writeback-3']);
    assert.deepEqual(replicatedApps(counts), ['id-translation', 'legacy-writeback']);
  });

  it('names the setting in every problem', () => {
    const { problems } = parseReplicas('nope=2,id-translation=9,legacy-import');
    assert.equal(problems.length, 3);
    assert.ok(problems.every((p) => p.startsWith('FAULTS_REPLICAS: ')));
    assert.throws(() => loadFaultsConfig({ ...base, FAULTS_REPLICAS: 'x=1' }), /FAULTS_REPLICAS: "x=1"|unknown app "x"/);
  });

  it('gives the topics 4 partitions once an app has several replicas, and repeats the run with its replicas', () => {
    assert.equal(loadFaultsConfig(base).partitions, 1);
    const c = loadFaultsConfig({ ...base, FAULTS_REPLICAS: 'domain-transform=2', FAULTS_REPLICA_PAUSES: '1' });
    assert.equal(c.partitions, 4);
    assert.match(repeatCommand(c), /FAULTS_REPLICAS=legacy-import=1,id-translation=1,domain-transform=2,legacy-writeback=1 /);
    assert.match(repeatCommand(c), /FAULTS_REPLICA_PAUSES=1/);
    assert.doesNotMatch(repeatCommand(c), /FAULTS_PARTITIONS/);
    assert.match(faultsPipelineYaml(4), /^kafka:\n {2}topics:\n {4}partitions: 4\n/m);
    assert.doesNotMatch(faultsPipelineYaml(1), /partitions:/);
  });

  it('plans replica faults only for apps with several replicas, and leaves the other faults as they were', () => {
    const common = { seed: 11, changes: 2_000, apps: APPS, killsPerApp: 1, brokerRestarts: 0, postgresStops: 0, postgresDownMs: 0, brokerDownMs: [1, 2] as const, appDownMs: [200, 5000] as const };
    const replicas = { 'legacy-import': 1, 'id-translation': 2, 'domain-transform': 2, 'legacy-writeback': 1 };
    const plan = planFaults({ ...common, replicas, replicaKills: 1, replicaStops: 1, scaleCycles: 1, replicaPauses: 1, pauseMs: 40_000 });
    const kinds = plan.map((f) => `${f.kind} ${f.target}`);
    assert.equal(plan.filter((f) => f.kind === 'kill-replica').length, 2);
    assert.equal(plan.filter((f) => f.kind === 'stop-replica').length, 2);
    assert.ok(plan.filter((f) => f.kind === 'kill-replica' || f.kind === 'stop-replica').every((f) => /^(id-translation|domain-transform)(-2)?$/.test(f.target)), kinds.join('; '));
    assert.equal(plan.find((f) => f.kind === 'pause-replica')?.downMs, 40_000);
    assert.equal(plan.filter((f) => f.kind === 'scale-cycle').length, 1);
    // Without replicas the same seed plans exactly what it planned before.
    assert.deepEqual(planFaults({ ...common, replicas: {}, replicaKills: 1, scaleCycles: 1, replicaPauses: 1 }), planFaults(common));
  });
});
