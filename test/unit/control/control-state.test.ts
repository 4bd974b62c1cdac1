import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePipeline } from '@sync/config';
import { ControlState, initialStates } from '@sync/control';

const pipeline = parsePipeline(
  `version: 1
systems:
  crm:
    dialect: postgres
    connection: { url: { env: CRM_DATABASE_URL } }
    tables:
      - { name: users, key: [id] }
      - { name: notes, key: [id], initialState: disabled }
`,
  'test.yaml',
);

describe('ControlState with the pipeline initial states', () => {
  it('an entity without a control record is in its declared initial state (default enabled)', () => {
    const state = new ControlState(initialStates(pipeline));
    assert.equal(state.stateOf('crm.public.users', 'legacy-to-new'), 'enabled');
    assert.equal(state.stateOf('crm.public.notes', 'legacy-to-new'), 'disabled');
    assert.equal(state.stateOf('crm.public.notes', 'new-to-legacy'), 'disabled');
    assert.equal(new ControlState().stateOf('crm.public.notes', 'legacy-to-new'), 'enabled', 'without initial states: enabled');
  });

  it('a control record wins, and enabling a declared-disabled entity is a change from disabled (legacy-import re-snapshots)', () => {
    const state = new ControlState(initialStates(pipeline));
    const change = state.apply({ entity: 'crm.public.notes', direction: 'legacy-to-new', state: 'enabled', by: 't', at: '2026-01-01T00:00:00Z', reason: '' });
    assert.deepEqual(change?.kind === 'state' && change.previous, 'disabled');
    assert.equal(state.stateOf('crm.public.notes', 'legacy-to-new'), 'enabled');
    assert.equal(state.stateOf('crm.public.notes', 'new-to-legacy'), 'disabled', 'the other direction keeps its initial state');
  });
});
