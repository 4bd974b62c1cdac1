import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import { asArray, asObject, renderKustomize, repoPath, type K8sObject } from './deploy-support';

describe('kustomize prod: Kafka over TLS + SCRAM-SHA-512 from Secrets', () => {
  const objects: K8sObject[] = renderKustomize(repoPath('deploy/k8s/overlays/prod'));
  const pipelineMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('legacy-sync-pipeline'))!;
  const pipeline = parsePipeline(String(asObject(pipelineMap['data'], 'data')['pipeline.yaml']), 'prod pipeline.yaml');

  it('the prod pipeline asks for TLS and SCRAM-SHA-512, with every secret in a mounted file', () => {
    assert.equal(pipeline.kafka.tls.enabled, true);
    assert.equal(pipeline.kafka.sasl?.mechanism, 'scram-sha-512');
    for (const ref of [pipeline.kafka.tls.ca, pipeline.kafka.sasl?.username, pipeline.kafka.sasl?.password]) {
      assert.ok(ref !== undefined && typeof ref === 'object' && 'file' in ref, `a file reference: ${JSON.stringify(ref)}`);
    }
  });

  it('every Deployment mounts the CA and its own SCRAM Secret where the pipeline reads them', () => {
    const files = [pipeline.kafka.tls.ca, pipeline.kafka.sasl?.username, pipeline.kafka.sasl?.password].map((r) => (r as { file: string }).file);
    const deployments = objects.filter((o) => o.kind === 'Deployment');
    assert.equal(deployments.length, 5);
    for (const d of deployments) {
      const pod = asObject(asObject(asObject(d['spec'], 'spec')['template'], 'template')['spec'], 'pod');
      const container = asObject(asArray(pod['containers'], 'containers')[0], 'container');
      const mounts = asArray(container['volumeMounts'], 'mounts').map((m) => asObject(m, 'mount'));
      const volumes = asArray(pod['volumes'], 'volumes').map((v) => asObject(v, 'volume'));
      const secrets = new Set<string>();
      for (const file of files) {
        const mount = mounts.find((m) => file.startsWith(`${String(m['mountPath'])}/`));
        assert.ok(mount, `${d.metadata.name}: ${file} is mounted`);
        const volume = volumes.find((v) => v['name'] === mount['name']);
        secrets.add(String(asObject(asObject(volume, 'volume')['secret'], `${d.metadata.name}: ${file} comes from a Secret`)['secretName']));
      }
      assert.deepEqual([...secrets].sort(), ['legacy-sync-kafka-ca', `legacy-sync-kafka-${d.metadata.name}`]);
    }
  });
});
