import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdaEvent, RecordedEvent } from '../../../events/index.ts';
import { accessProjection, decideSubscription, emptyAccess, subscribedDatasets } from '../../../pipeline/projections/access/index.ts';
import { evolverOf } from '../../../pipeline/index.ts';
import type { AccessState } from '../../../pipeline/projections/access/index.ts';

function fold(events: AdaEvent[]): AccessState {
  return events.map((e, i) => ({ ...e, id: `id-${i}`, position: i + 1, source: 'test', at: '2026-01-01T00:00:00.000Z' }) as RecordedEvent).reduce(evolverOf(accessProjection), emptyAccess());
}

const config = { instance: { admins: [] } };
const sub = (name: string, dataset: string): AdaEvent => ({ type: 'DatasetSubscribed', v: 1, data: { name, dataset } });
const unsub = (name: string, dataset: string): AdaEvent => ({ type: 'DatasetUnsubscribed', v: 1, data: { name, dataset } });
const add = (name: string): AdaEvent => ({ type: 'AnalystAdded', v: 1, data: { name, role: 'analyst' } });

describe('dataset subscriptions', () => {
  it('folds subscribe and unsubscribe; ignores unknown analysts; a re-added analyst starts with none', () => {
    const state = fold([add('ann'), sub('ann', 'web'), sub('ann', 'sales'), sub('ann', 'web'), sub('zed', 'sales'), unsub('ann', 'web')]);
    assert.deepEqual(state.analysts.ann!.datasets, ['sales']);
    assert.equal(state.analysts.zed, undefined);
    const again = fold([add('ann'), sub('ann', 'sales'), { type: 'AnalystRemoved', v: 1, data: { name: 'ann' } }, add('ann')]);
    assert.equal(again.analysts.ann!.datasets, undefined);
  });

  it('expands required datasets transitively', () => {
    const state = fold([add('ann'), sub('ann', 'web')]);
    const requires: Record<string, string[]> = { web: ['sales'], sales: ['core'], core: [] };
    assert.deepEqual([...subscribedDatasets(state, 'ann', (d) => requires[d] ?? [])].sort(), ['core', 'sales', 'web']);
    assert.deepEqual([...subscribedDatasets(state, 'nobody')], []);
  });

  it('decides only changes, refuses unknown datasets and analysts', () => {
    const state = fold([add('ann'), sub('ann', 'sales')]);
    assert.equal(decideSubscription(state, config, 'ann', 'sales', true, ['sales', 'web']), undefined);
    const d = decideSubscription(state, config, 'ann', 'web', true, ['sales', 'web'])!;
    assert.deepEqual(d.event, { type: 'DatasetSubscribed', v: 1, data: { name: 'ann', dataset: 'web' } });
    assert.equal(decideSubscription(state, config, 'ann', 'sales', false, ['sales'])!.event.type, 'DatasetUnsubscribed');
    assert.throws(() => decideSubscription(state, config, 'ann', 'jira', true, ['sales']), { code: 'DATASET_NOT_FOUND' });
    assert.throws(() => decideSubscription(state, config, 'bob', 'sales', true, ['sales']), { code: 'ANALYST_NOT_FOUND' });
  });

  it('records a subscribe again after an unsubscribe (its key differs from the first subscribe)', () => {
    const first = decideSubscription(fold([add('ann')]), config, 'ann', 'web', true, ['web'])!;
    const again = decideSubscription(fold([add('ann'), sub('ann', 'web'), unsub('ann', 'web')]), config, 'ann', 'web', true, ['web'])!;
    assert.equal(again.event.type, 'DatasetSubscribed');
    assert.notEqual(again.idempotencyKey, first.idempotencyKey);
    const retry = decideSubscription(fold([add('ann'), sub('ann', 'web'), unsub('ann', 'web')]), config, 'ann', 'web', true, ['web'])!;
    assert.equal(retry.idempotencyKey, again.idempotencyKey);
  });

  it('subscribes a dataset only after what it requires, and keeps what another subscription requires', () => {
    const requiresOf = (d: string): string[] => (d === 'jira_attachments' ? ['jira'] : []);
    const all = ['jira', 'jira_attachments'];
    assert.throws(() => decideSubscription(fold([add('ann')]), config, 'ann', 'jira_attachments', true, all, requiresOf), { code: 'DATASET_REQUIRED', message: /jira_attachments requires jira/ });
    assert.equal(decideSubscription(fold([add('ann'), sub('ann', 'jira')]), config, 'ann', 'jira_attachments', true, all, requiresOf)!.event.type, 'DatasetSubscribed');
    const both = fold([add('ann'), sub('ann', 'jira'), sub('ann', 'jira_attachments')]);
    assert.throws(() => decideSubscription(both, config, 'ann', 'jira', false, all, requiresOf), { code: 'DATASET_REQUIRED', message: /jira_attachments requires jira/ });
    assert.equal(decideSubscription(both, config, 'ann', 'jira_attachments', false, all, requiresOf)!.event.type, 'DatasetUnsubscribed');
  });
});
