import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigValidationError, parsePipeline } from '@sync/config';
import { loadMappings, MapperRegistry } from '@sync/mapping';
import { loadVerifyConfig, selectEntity } from '../../../apps/sync-ctl/src/verify/verify-config';
import { repoRoot } from '../../support/test-env';

const demo = readFileSync(path.join(repoRoot, 'examples', 'new-service', 'pipeline.demo.yaml'), 'utf8').replaceAll('${RUN}', 't1');

function load(text: string) {
  const pipeline = parsePipeline(text, 'test.yaml');
  return loadVerifyConfig(pipeline, loadMappings(pipeline, new MapperRegistry()).set);
}

describe('verify: the pipeline\'s verify section', () => {
  it('reads the demo pipeline: entities, new-side tables and compared fields', () => {
    const config = load(demo);
    assert.deepEqual(config.connection, { env: 'SERVICE_DATABASE_URL' });
    assert.equal(config.rangeBits, 10);
    const users = selectEntity(config, 'users')!;
    assert.equal(users.entity, 'crm_t1.public.users');
    assert.equal(selectEntity(config, 'crm_t1.public.orders')?.name, 'orders');
    assert.equal(users.mapping, 'users');
    assert.deepEqual(users.tables, [{ table: 'users', idColumn: 'id' }, { table: 'addresses', idColumn: 'user_id' }]);
    assert.deepEqual(users.fields[2], { name: 'addresses.street', table: 'addresses', column: 'street', eventType: 'AddressChanged', eventField: 'street' });
    assert.equal(selectEntity(config, 'nope'), undefined);
  });

  it('names every bad path', () => {
    const broken = demo
      .replace('users.name: UserChanged.name', 'users.name: UserChanged.nom')
      .replace('addresses.zip: AddressChanged.zip', 'shipping.zip: AddressChanged.zip')
      .replace('orders.total: OrderPlaced.total', 'orders.total: OrderShipped.total')
      .replace('source: { system: crm_t1, table: orders }\n      tables', 'source: { system: crm_t1, table: order }\n      tables');
    assert.throws(
      () => load(broken),
      (err: unknown) => {
        assert.ok(err instanceof ConfigValidationError);
        assert.deepEqual(err.issues.map((i) => i.path), ['verify.entities.users.fields.users.name', 'verify.entities.users.fields.shipping.zip', 'verify.entities.orders.source.table']);
        assert.match(err.issues[0]!.message, /event UserChanged of mapping users has no field nom/);
        return true;
      },
    );
    assert.throws(() => load(demo.replace(/\nverify:[\s\S]*$/, '\nverify: {}\n')), /verify\.newSide\.connection\.url/);
  });
});
