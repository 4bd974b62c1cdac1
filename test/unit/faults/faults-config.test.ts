import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { databaseUrl, FaultsConfigError, loadFaultsConfig, repeatCommand } from '../../../scripts/faults/faults-config';

const base = { FAULTS_PG_URL: 'postgres://postgres@127.0.0.1:55433/postgres', KAFKA_BROKERS: '127.0.0.1:19192', FAULTS_RUN_DIR: '/tmp/f' };

describe('faults: settings', () => {
  it('defaults to 20,000 changes, every app killed twice, one broker restart and one 20 s PostgreSQL stop', () => {
    const c = loadFaultsConfig(base, () => 77);
    assert.deepEqual(
      { seed: c.seed, changes: c.changes, kills: c.killsPerApp, broker: c.brokerRestarts, pg: c.postgresStops, down: c.postgresDownMs, share: c.newShare },
      { seed: 77, changes: 20_000, kills: 2, broker: 1, pg: 1, down: 20_000, share: 0.5 },
    );
    assert.equal(loadFaultsConfig({ ...base, FAULTS_CHANGES: '2_000', FAULTS_SEED: '5' }).changes, 2000);
  });

  it('names every bad variable', () => {
    assert.throws(
      () => loadFaultsConfig({ FAULTS_CHANGES: 'many', FAULTS_NEW_SHARE: '2', FAULTS_SEED: '-1' }),
      (err: unknown) => {
        assert.ok(err instanceof FaultsConfigError);
        for (const name of ['FAULTS_CHANGES', 'FAULTS_NEW_SHARE', 'FAULTS_SEED', 'FAULTS_PG_URL', 'KAFKA_BROKERS', 'FAULTS_RUN_DIR']) assert.match(err.message, new RegExp(`${name}:`));
        return true;
      },
    );
  });

  it('derives the run databases from the cluster URL', () => {
    assert.equal(databaseUrl(base.FAULTS_PG_URL, 'faults_legacy'), 'postgres://postgres@127.0.0.1:55433/faults_legacy');
  });

  it('prints a repeat command with the seed and every setting that differs from its default', () => {
    assert.equal(repeatCommand(loadFaultsConfig({ ...base, FAULTS_SEED: '12' })), 'FAULTS_SEED=12 FAULTS_CHANGES=20000 npm run test:faults');
    assert.equal(
      repeatCommand(loadFaultsConfig({ ...base, FAULTS_SEED: '12', FAULTS_CHANGES: '2000', FAULTS_KILLS_PER_APP: '1', FAULTS_NEW_SHARE: '0.3' })),
      'FAULTS_SEED=12 FAULTS_CHANGES=2000 FAULTS_NEW_SHARE=0.3 FAULTS_KILLS_PER_APP=1 npm run test:faults',
    );
  });
});
