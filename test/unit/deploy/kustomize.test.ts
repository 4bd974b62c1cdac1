import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { APP_NAMES, DEFAULT_HTTP_PORTS, parsePipeline, type AppName } from '@sync/config';
import {
  asArray,
  asObject,
  k8sSchemaProblems,
  pipelineEnvRefs,
  renderKustomize,
  repoPath,
  type Json,
  type JsonObject,
  type K8sObject,
} from './deploy-support';

const TARGETS = {
  base: { dir: 'deploy/k8s/base', namespace: undefined },
  dev: { dir: 'deploy/k8s/overlays/dev', namespace: 'legacy-sync-dev' },
  prod: { dir: 'deploy/k8s/overlays/prod', namespace: 'legacy-sync' },
} as const;
type Target = keyof typeof TARGETS;

const EXPECTED_REPLICAS: Record<Target, Record<AppName, number>> = {
  base: { 'legacy-import': 2, 'id-translation': 1, 'domain-transform': 1, 'legacy-writeback': 1 },
  dev: { 'legacy-import': 1, 'id-translation': 1, 'domain-transform': 1, 'legacy-writeback': 1 },
  prod: { 'legacy-import': 2, 'id-translation': 3, 'domain-transform': 3, 'legacy-writeback': 2 },
};

const rendered = new Map<Target, K8sObject[]>();
function render(target: Target): K8sObject[] {
  let objects = rendered.get(target);
  if (!objects) {
    objects = renderKustomize(repoPath(TARGETS[target].dir));
    rendered.set(target, objects);
  }
  return objects;
}

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const matches = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  assert.equal(matches.length, 1, `exactly one ${kind} ${name}`);
  return matches[0]!;
}

/** Generated ConfigMaps/Secrets carry a content hash suffix: `legacy-sync-env-<hash>`. */
function findGenerated(objects: K8sObject[], kind: string, reference: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === reference);
}

function podSpec(deployment: K8sObject): JsonObject {
  const spec = asObject(deployment['spec'], 'spec');
  return asObject(asObject(spec['template'], 'template')['spec'], 'template.spec');
}

function container(deployment: K8sObject, app: AppName): JsonObject {
  const containers = asArray(podSpec(deployment)['containers'], 'containers').map((c) => asObject(c, 'container'));
  assert.equal(containers.length, 1, `${app}: one container`);
  const only = containers[0]!;
  assert.equal(only['name'], app);
  return only;
}

function envOf(c: JsonObject): JsonObject[] {
  return asArray(c['env'] ?? [], 'env').map((e) => asObject(e, 'env entry'));
}

function envValue(c: JsonObject, name: string): Json | undefined {
  return envOf(c).find((e) => e['name'] === name)?.['value'];
}

/** A probe or Service port given by name or number, resolved against the container's ports. */
function resolvePort(c: JsonObject, port: Json | undefined): number {
  const ports = asArray(c['ports'], 'ports').map((p) => asObject(p, 'port'));
  if (typeof port === 'number') return port;
  const named = ports.find((p) => p['name'] === port);
  assert.ok(named, `port ${String(port)} is declared on the container`);
  return Number(named['containerPort']);
}

function labelsMatch(selector: JsonObject, labels: JsonObject): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

for (const target of Object.keys(TARGETS) as Target[]) {
  describe(`kustomize ${target} (${TARGETS[target].dir})`, () => {
    it('renders, and every object is valid against the Kubernetes JSON schema of its kind', () => {
      const objects = render(target);
      assert.ok(objects.length >= APP_NAMES.length * 3);
      const problems = objects.flatMap((o) => k8sSchemaProblems(o));
      assert.deepEqual(problems, []);
    });

    it('has one Deployment, Service and PodDisruptionBudget per app, whose selectors find the pods', () => {
      const objects = render(target);
      for (const app of APP_NAMES) {
        const deployment = find(objects, 'Deployment', app);
        const podLabels = asObject(asObject(asObject(deployment['spec'], 'spec')['template'], 'template')['metadata'], 'metadata')['labels'];
        const labels = asObject(podLabels, `${app} pod labels`);
        const matchLabels = asObject(asObject(asObject(deployment['spec'], 'spec')['selector'], 'selector')['matchLabels'], 'matchLabels');
        assert.ok(labelsMatch(matchLabels, labels), `${app}: Deployment selector matches its pods`);

        const service = find(objects, 'Service', app);
        const serviceSpec = asObject(service['spec'], 'service spec');
        assert.ok(labelsMatch(asObject(serviceSpec['selector'], 'service selector'), labels), `${app}: Service selects the pods`);
        const servicePorts = asArray(serviceSpec['ports'], 'service ports').map((p) => asObject(p, 'service port'));
        for (const port of servicePorts) {
          assert.equal(resolvePort(container(deployment, app), port['targetPort']), DEFAULT_HTTP_PORTS[app], `${app}: Service targets the app port`);
        }

        const pdb = find(objects, 'PodDisruptionBudget', app);
        const pdbSpec = asObject(pdb['spec'], 'pdb spec');
        assert.ok(labelsMatch(asObject(asObject(pdbSpec['selector'], 'pdb selector')['matchLabels'], 'pdb matchLabels'), labels), `${app}: PDB selects the pods`);
        // With one replica, minAvailable: 1 would block node drains forever.
        assert.equal(pdbSpec['maxUnavailable'], 1, `${app}: PDB lets one pod go at a time`);
      }
    });

    it('probes and scrape annotations point at the real paths on the app port', () => {
      const objects = render(target);
      for (const app of APP_NAMES) {
        const deployment = find(objects, 'Deployment', app);
        const c = container(deployment, app);
        const port = DEFAULT_HTTP_PORTS[app];
        const ports = asArray(c['ports'], 'ports').map((p) => asObject(p, 'port'));
        assert.deepEqual(ports.map((p) => p['containerPort']), [port], `${app}: container port`);
        assert.equal(envValue(c, 'HTTP_PORT'), String(port), `${app}: HTTP_PORT`);
        const expected = { startupProbe: '/health/startup', livenessProbe: '/health/live', readinessProbe: '/health/ready' };
        for (const [probe, path] of Object.entries(expected)) {
          const httpGet = asObject(asObject(c[probe], `${app} ${probe}`)['httpGet'], `${app} ${probe}.httpGet`);
          assert.equal(httpGet['path'], path, `${app} ${probe} path`);
          assert.equal(resolvePort(c, httpGet['port']), port, `${app} ${probe} port`);
        }
        const annotations = asObject(asObject(asObject(asObject(deployment['spec'], 'spec')['template'], 'template')['metadata'], 'metadata')['annotations'], 'annotations');
        assert.equal(annotations['prometheus.io/scrape'], 'true');
        assert.equal(annotations['prometheus.io/port'], String(port));
        assert.equal(annotations['prometheus.io/path'], '/metrics');
      }
    });

    it('runs every container as non-root, read-only, without capabilities, with resources set', () => {
      const objects = render(target);
      for (const app of APP_NAMES) {
        const deployment = find(objects, 'Deployment', app);
        const pod = podSpec(deployment);
        const podSecurity = asObject(pod['securityContext'], `${app} pod securityContext`);
        assert.equal(podSecurity['runAsNonRoot'], true, `${app}: runAsNonRoot`);
        assert.ok(typeof podSecurity['runAsUser'] === 'number' && podSecurity['runAsUser'] > 0, `${app}: numeric non-root uid`);
        assert.equal(pod['automountServiceAccountToken'], false, `${app}: no API token`);
        const c = container(deployment, app);
        const security = asObject(c['securityContext'], `${app} securityContext`);
        assert.equal(security['runAsNonRoot'], true);
        assert.equal(security['readOnlyRootFilesystem'], true);
        assert.equal(security['allowPrivilegeEscalation'], false);
        assert.deepEqual(asObject(security['capabilities'], 'capabilities')['drop'], ['ALL']);
        const resources = asObject(c['resources'], `${app} resources`);
        for (const bound of ['requests', 'limits']) {
          const values = asObject(resources[bound], `${app} resources.${bound}`);
          assert.ok(values['cpu'] !== undefined && values['memory'] !== undefined, `${app}: ${bound} cpu and memory`);
        }
      }
    });

    it('runs the compiled entry point of each app and gives it more grace than SHUTDOWN_TIMEOUT_MS', () => {
      const objects = render(target);
      for (const app of APP_NAMES) {
        const deployment = find(objects, 'Deployment', app);
        const c = container(deployment, app);
        const command = asArray(c['command'], `${app} command`);
        const entry = `dist/apps/${app}/src/main.js`;
        assert.equal(command[0], 'node');
        assert.equal(command[command.length - 1], entry);
        assert.ok(existsSync(repoPath(`apps/${app}/src/main.ts`)), `${app}: source entry point`);
        assert.ok(existsSync(repoPath(entry)), `${entry} exists after the build`);

        const envFrom = asArray(c['envFrom'], `${app} envFrom`).map((e) => asObject(e, 'envFrom'));
        const configMapName = envFrom.map((e) => e['configMapRef']).filter((r) => r !== undefined).map((r) => asObject(r, 'configMapRef')['name']);
        assert.equal(configMapName.length, 1, `${app}: one env ConfigMap`);
        const envMap = find(objects, 'ConfigMap', String(configMapName[0]));
        const timeoutMs = Number(asObject(envMap['data'], 'env data')['SHUTDOWN_TIMEOUT_MS']);
        assert.ok(timeoutMs > 0, 'SHUTDOWN_TIMEOUT_MS set');
        const grace = Number(podSpec(deployment)['terminationGracePeriodSeconds']);
        assert.ok(grace * 1000 > timeoutMs, `${app}: grace ${grace}s > ${timeoutMs}ms`);
      }
    });

    it('mounts a valid pipeline file from a ConfigMap and takes credentials only from Secrets', () => {
      const objects = render(target);
      for (const app of APP_NAMES) {
        const deployment = find(objects, 'Deployment', app);
        const pod = podSpec(deployment);
        const c = container(deployment, app);
        const volumes = asArray(pod['volumes'], 'volumes').map((v) => asObject(v, 'volume'));
        const mounts = asArray(c['volumeMounts'], 'volumeMounts').map((m) => asObject(m, 'volumeMount'));

        const pipelineVolume = volumes.find((v) => v['configMap'] !== undefined);
        assert.ok(pipelineVolume, `${app}: a ConfigMap volume`);
        const pipelineMount = mounts.find((m) => m['name'] === pipelineVolume['name']);
        assert.ok(pipelineMount, `${app}: the pipeline volume is mounted`);
        assert.equal(envValue(c, 'PIPELINE_FILE'), `${String(pipelineMount['mountPath'])}/pipeline.yaml`);
        const pipelineMap = find(objects, 'ConfigMap', String(asObject(pipelineVolume['configMap'], 'configMap')['name']));
        const pipelineText = String(asObject(pipelineMap['data'], 'pipeline data')['pipeline.yaml']);
        assert.doesNotThrow(() => parsePipeline(pipelineText, `${target} pipeline.yaml`));

        // Secrets never appear as plain values.
        for (const entry of envOf(c)) {
          if (/URL|PASSWORD|TOKEN$|SECRET/.test(String(entry['name']))) {
            assert.equal(entry['value'], undefined, `${app}: ${String(entry['name'])} must come from a Secret`);
          }
        }
        const tokenFile = String(envValue(c, 'ADMIN_TOKEN_FILE'));
        const tokenMount = mounts.find((m) => tokenFile.startsWith(`${String(m['mountPath'])}/`));
        assert.ok(tokenMount, `${app}: ADMIN_TOKEN_FILE lies in a mounted volume`);
        const tokenVolume = asObject(volumes.find((v) => v['name'] === tokenMount['name']), 'token volume');
        const tokenSecret = String(asObject(tokenVolume['secret'], `${app}: the admin token volume is a Secret`)['secretName']);
        assert.ok(tokenSecret.startsWith('legacy-sync-admin-token'));

        const needsLegacyDb = app === 'legacy-import' || app === 'legacy-writeback';
        const secretRefs = asArray(c['envFrom'], 'envFrom')
          .map((e) => asObject(e, 'envFrom')['secretRef'])
          .filter((r) => r !== undefined)
          .map((r) => String(asObject(r, 'secretRef')['name']));
        assert.equal(secretRefs.length, needsLegacyDb ? 1 : 0, `${app}: legacy database secret only where a legacy database is used`);
        if (needsLegacyDb) {
          assert.ok(secretRefs[0]!.startsWith('legacy-sync-legacy-db'));
          // Where the overlay generates the Secret, it must hold every variable the pipeline names.
          const generated = findGenerated(objects, 'Secret', secretRefs[0]!);
          if (generated) {
            const keys = Object.keys(asObject(generated['data'], 'secret data'));
            for (const name of pipelineEnvRefs(pipelineText)) assert.ok(keys.includes(name), `${target}: secret provides ${name}`);
          }
        }
        const keymap = envOf(c).find((e) => e['name'] === 'KEYMAP_DATABASE_URL');
        if (app === 'id-translation') {
          const ref = asObject(asObject(asObject(keymap, 'KEYMAP_DATABASE_URL')['valueFrom'], 'valueFrom')['secretKeyRef'], 'secretKeyRef');
          assert.ok(String(ref['name']).startsWith('legacy-sync-keymap-db'));
          assert.equal(ref['key'], 'url');
        } else {
          assert.equal(keymap, undefined, `${app}: no key-map credentials`);
        }
      }
      // Every Secret or ConfigMap the overlay generates is referenced under its hashed name.
      for (const generated of objects.filter((o) => o.kind === 'Secret' || o.kind === 'ConfigMap')) {
        const text = JSON.stringify(objects.filter((o) => o.kind === 'Deployment'));
        assert.ok(text.includes(`"${generated.metadata.name}"`), `${generated.kind} ${generated.metadata.name} is used`);
      }
    });

    it('sets the replica counts; legacy-import rolls without ever dropping below its replica count', () => {
      const objects = render(target);
      for (const app of APP_NAMES) {
        const spec = asObject(find(objects, 'Deployment', app)['spec'], 'spec');
        assert.equal(spec['replicas'], EXPECTED_REPLICAS[target][app], `${target} ${app} replicas`);
      }
      const importer = asObject(find(objects, 'Deployment', 'legacy-import')['spec'], 'spec');
      const strategy = asObject(importer['strategy'], 'strategy');
      assert.equal(strategy['type'], 'RollingUpdate');
      assert.equal(asObject(strategy['rollingUpdate'], 'rollingUpdate')['maxUnavailable'], 0);
    });

    it('places every object in the overlay namespace', () => {
      const expected = TARGETS[target].namespace;
      for (const object of render(target)) assert.equal(object.metadata['namespace'], expected, `${object.kind} ${object.metadata.name}`);
    });
  });
}

describe('kustomize prod secrets and scaling', () => {
  it('documents every variable the prod pipeline needs from the out-of-band Secret', () => {
    const prod = render('prod');
    assert.equal(prod.filter((o) => o.kind === 'Secret').length, 0, 'prod generates no Secret');
    const pipelineMap = prod.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('legacy-sync-pipeline'));
    const text = String(asObject(asObject(pipelineMap, 'prod pipeline')['data'], 'data')['pipeline.yaml']);
    const docs = readFileSync(repoPath('docs/deployment.md'), 'utf8');
    const refs = pipelineEnvRefs(text);
    assert.ok(refs.length > 0);
    for (const name of refs) assert.ok(docs.includes(name), `docs/deployment.md names ${name}`);
  });

  it('never runs more consumer replicas than input partitions', () => {
    const prod = render('prod');
    const pipelineMap = prod.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('legacy-sync-pipeline'));
    const pipeline = parsePipeline(String(asObject(asObject(pipelineMap, 'prod pipeline')['data'], 'data')['pipeline.yaml']), 'prod');
    const partitions = pipeline.kafka.topics.partitions ?? 1;
    for (const app of APP_NAMES) {
      assert.ok(EXPECTED_REPLICAS.prod[app] <= partitions, `${app}: ${EXPECTED_REPLICAS.prod[app]} replicas <= ${partitions} partitions`);
    }
  });
});

describe('Kubernetes schema validation can fail', () => {
  it('rejects a Deployment with a wrong type and an object of an unknown kind', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'broken' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 'http' }] }] } },
      },
    };
    assert.match(k8sSchemaProblems(deployment).join('\n'), /containerPort must be integer/);
    const missing = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'no-spec-template' }, spec: { selector: {} } };
    assert.match(k8sSchemaProblems(missing).join('\n'), /template/);
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { url: 'not base64!' } };
    assert.match(k8sSchemaProblems(secret).join('\n'), /format "byte"/);
    assert.match(k8sSchemaProblems({ apiVersion: 'v9', kind: 'Gadget', metadata: { name: 'x' } }).join('\n'), /no schema/);
  });
});
