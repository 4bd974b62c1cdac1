import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ACL_ROLES, aclAllows, kafkaAcls, Topics } from '@sync/contracts';

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const acls = kafkaAcls({ idTranslationGroupPrefix: 'id-translation', domainTransformGroupPrefix: 'domain-transform' });
const t = { system: 'crm', schema: 'public', table: 'users' };
const DATA = { legacy: Topics.legacy(t), keyed: Topics.keyed(t), writeback: Topics.writeback(t), resolved: Topics.resolved(t), domain: Topics.domain('User', 1) };
const user = (role: string): string => `User:${role}`;

function writes(role: string): string[] {
  return Object.entries(DATA).filter(([, topic]) => aclAllows(acls, user(role), 'write', topic)).map(([name]) => name);
}
function reads(role: string): string[] {
  return Object.entries(DATA).filter(([, topic]) => aclAllows(acls, user(role), 'read', topic)).map(([name]) => name);
}

describe('kafkaAcls: what each app principal may do', () => {
  it('lets each app write only its own output topics: only domain-transform writes writeback.*', () => {
    assert.deepEqual(writes('legacy-import'), ['legacy']);
    assert.deepEqual(writes('id-translation'), ['keyed', 'resolved']);
    assert.deepEqual(writes('domain-transform'), ['writeback', 'domain']);
    assert.deepEqual(writes('legacy-writeback'), []);
    assert.deepEqual(writes('console'), []);
    assert.deepEqual(writes('sync-ctl'), []);
    assert.deepEqual(ACL_ROLES.filter((r) => aclAllows(acls, user(r), 'write', DATA.writeback)), ['domain-transform']);
  });

  it('lets legacy-writeback read only its command topics (resolved.*)', () => {
    assert.deepEqual(reads('legacy-writeback'), ['resolved']);
    assert.deepEqual(reads('id-translation'), ['legacy', 'writeback']);
    assert.deepEqual(reads('domain-transform'), ['keyed', 'domain']);
    assert.deepEqual(reads('legacy-import'), []);
  });

  it('gives each app its own consumer groups only', () => {
    const groups = (role: string) => acls.filter((a) => a.principal === user(role) && a.resourceType === 'group' && a.operation === 'read').map((a) => a.resourceName);
    assert.deepEqual(groups('id-translation'), ['id-translation-control-', 'topic-reader-', 'id-translation.']);
    assert.deepEqual(groups('domain-transform'), ['domain-transform-control-', 'topic-reader-', 'domain-transform.']);
    assert.deepEqual(groups('legacy-writeback'), ['legacy-writeback-control-', 'topic-reader-', 'legacy-writeback.']);
    const custom = kafkaAcls({ idTranslationGroupPrefix: 'idt-eu', domainTransformGroupPrefix: 'dt-eu', principals: { 'id-translation': 'idt' } });
    assert.ok(custom.some((a) => a.principal === 'User:idt' && a.resourceType === 'group' && a.resourceName === 'idt-eu.'));
    assert.ok(custom.some((a) => a.principal === 'User:domain-transform' && a.resourceName === 'dt-eu.'));
  });

  it('lets the operator write data topics only with operatorReplay', () => {
    const replay = kafkaAcls({ idTranslationGroupPrefix: 'id-translation', domainTransformGroupPrefix: 'domain-transform', operatorReplay: true });
    assert.ok(aclAllows(replay, 'User:sync-ctl', 'write', DATA.writeback));
    assert.ok(aclAllows(acls, 'User:sync-ctl', 'write', Topics.control));
    assert.ok(!aclAllows(acls, 'User:sync-ctl', 'write', DATA.legacy));
  });

  it('lists no binding twice', () => {
    const keys = acls.map((a) => `${a.principal} ${a.resourceType} ${a.patternType} ${a.resourceName} ${a.operation}`);
    assert.equal(new Set(keys).size, keys.length);
  });

  it('deploy/k8s/overlays/prod/kafka-acls.txt is what sync-ctl acls prints for the prod pipeline', () => {
    const shipped = readFileSync(path.join(repoRoot, 'deploy/k8s/overlays/prod/kafka-acls.txt'), 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n');
    const res = spawnSync(process.execPath, [path.join(repoRoot, 'dist/apps/sync-ctl/src/main.js'), 'acls', '--pipeline', path.join(repoRoot, 'deploy/k8s/overlays/prod/pipeline.yaml')], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(shipped, res.stdout, 'regenerate kafka-acls.txt (see its header)');
  });
});
